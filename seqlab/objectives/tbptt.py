"""Truncated backpropagation through time, as a plain function (no Lightning).

The sequence is cut into consecutive chunks of ``steps`` positions (Sutskever's k1 = k2).
Each chunk runs from the previous chunk's final state, *detached*, so no gradient crosses a
chunk boundary: a loss at position t reaches inputs no further back than the start of its
chunk, at most ``steps - 1`` positions earlier. ``steps >= T`` is full BPTT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn

from seqlab.models.recurrent import State, detach_state


def truncated_bptt_chunks(
    model: nn.Module, inputs: Tensor, steps: int | None
) -> Iterator[tuple[int, int, Tensor]]:
    """Yield (start, end, logits) per chunk; the caller computes the loss and steps.

    model(tokens (B, t), state=...) -> (logits (B, t, C), state). inputs (B, T).
    The state carried into the next chunk is detached after the caller has used the chunk.
    """
    length = inputs.size(1)
    steps = length if steps is None else steps
    state: State | None = None
    for start in range(0, length, steps):
        end = min(start + steps, length)
        logits, state = model(inputs[:, start:end], state=state)
        yield start, end, logits
        state = detach_state(state)


def run_truncated_bptt(
    model: nn.Module,
    inputs: Tensor,
    steps: int | None,
    chunk_loss: Callable[[Tensor, int, int], Tensor],
    step: Callable[[Tensor], None],
) -> Tensor:
    """Train over one batch with TBPTT: for each chunk, ``step(chunk_loss(logits, s, e))``.

    Returns the mean of the chunk losses weighted by chunk length, as a 0-d tensor on the
    model's device (read back by the caller when it needs a number).
    """
    total = torch.zeros(())
    for start, end, logits in truncated_bptt_chunks(model, inputs, steps):
        loss = chunk_loss(logits, start, end)
        step(loss)
        total = total.to(loss.device) + loss.detach().float() * (end - start)
    return total / inputs.size(1)
