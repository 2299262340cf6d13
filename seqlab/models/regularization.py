"""The regularisers that made LSTM language models work (Merity et al. 2018, AWD-LSTM), as
plain functions and modules:

* :class:`LockedDropout`: variational dropout (Gal & Ghahramani 2016): one mask per sequence,
  the same at every time step, so a unit is either dropped for the whole window or kept.
* :func:`embedding_dropout`: drops whole rows of the embedding matrix, that is every
  occurrence of some token types in the batch (AWD-LSTM's ``dropoute``).
* :func:`drop_weights`: DropConnect on a recurrent matrix W_hh (Wan et al. 2013; AWD-LSTM's
  weight drop), one mask per forward pass, shared by every time step.

All three scale what they keep by 1 / (1 - p) and do nothing in evaluation.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class LockedDropout(nn.Module):
    """x (B, T, D) -> x with one dropout mask (B, 1, D) per sequence, shared over time."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        mask = x.new_empty(x.size(0), 1, x.size(2)).bernoulli_(1 - self.p) / (1 - self.p)
        return x * mask

    def extra_repr(self) -> str:
        return f"p={self.p}"


def dropout_module(p: float, locked: bool) -> nn.Module:
    """Dropout on (B, T, D) features: per position (``nn.Dropout``) or locked over time."""
    return LockedDropout(p) if locked else nn.Dropout(p)


def embedding_dropout(weight: Tensor, p: float, training: bool) -> Tensor:
    """weight (V, E) -> the matrix with each row (token type) zeroed with probability p, the
    others scaled by 1 / (1 - p)."""
    if not training or p == 0:
        return weight
    mask = weight.new_empty(weight.size(0), 1).bernoulli_(1 - p) / (1 - p)
    return weight * mask


def drop_weights(weight: Tensor, p: float, training: bool) -> Tensor:
    """DropConnect: each entry of ``weight`` zeroed with probability p (scaled 1 / (1 - p))."""
    return F.dropout(weight, p, training) if p > 0 else weight
