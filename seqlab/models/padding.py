"""Helpers for padded batches (padding is at the end of each row, never packed)."""

from __future__ import annotations

import torch
from torch import Tensor


def known_unpadded(lengths: Tensor | None, steps: int) -> bool:
    """Whether a batch of ``steps`` positions is known to have no padding: no lengths, or
    lengths on the CPU all equal to ``steps``. Lengths on an accelerator are not read (it
    would stall the host until the device catches up, at every step): they count as padded,
    which gives the same results by a path that handles padding."""
    if lengths is None:
        return True
    return lengths.device.type == "cpu" and bool((lengths == steps).all())


def real_mask(tokens: Tensor, lengths: Tensor | None) -> Tensor:
    """(B, T) True at real (non-padding) positions; all True when ``lengths`` is None."""
    if lengths is None:
        return torch.ones_like(tokens, dtype=torch.bool)
    steps = torch.arange(tokens.size(1), device=tokens.device)[None]
    return steps < lengths.to(tokens.device)[:, None]


def reverse_padded(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence of ``x`` (B, T, ...) within its own length; padding stays put.

    Applying it twice gives ``x`` back.
    """
    if lengths is None:
        return x.flip(1)
    steps = torch.arange(x.size(1), device=x.device).unsqueeze(0)  # (1, T)
    lengths = lengths.to(x.device).unsqueeze(1)  # (B, 1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)  # (B, T)
    index = index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)


def last_position(outputs: Tensor, lengths: Tensor | None) -> Tensor:
    """outputs (B, T, F) -> (B, F): each sequence's entry at position length - 1."""
    if lengths is None:
        return outputs[:, -1]
    index = (lengths.to(outputs.device) - 1).view(-1, 1, 1).expand(-1, 1, outputs.size(-1))
    return outputs.gather(1, index).squeeze(1)
