"""A text as parallel streams (the classic ``batchify`` of language modelling), and the
windows truncated BPTT runs over them.

A split's text is one sequence of N token ids after one context token (an end of line, as
if the text followed one). :func:`stream_layout` cuts it into ``streams`` contiguous streams of
nearly equal length: stream b reads tokens and predicts the ones that follow, so every one of
the N tokens is a target exactly once per epoch; streams one shorter than the longest end
with one padding position (input PAD_ID, target IGNORE). A batch is one window of positions
[start, end) of every stream: inputs (streams, end - start) and targets alike, and a model
that carries each stream's state from one window to the next reads the text as one long
sequence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from seqlab.data.batching import ResumableBatches, ResumableLoader, world
from seqlab.spec import Batch
from seqlab.text.vocab import PAD_ID

IGNORE = -100  # target of a padding position (as seqlab.objectives.per_step)
# AWD-LSTM's variable-length windows (Merity et al. 2018, §4.1): the base length k with this
# probability, else k / 2; then a normal draw with this standard deviation around it, and at
# least this many positions.
KEEP_FULL_WINDOW, WINDOW_SD, SHORTEST_WINDOW = 0.95, 5.0, 5


def stream_layout(ids: Tensor, streams: int) -> tuple[Tensor, Tensor]:
    """ids (N + 1,) long: a context token, then the N tokens of the text ->
    inputs, targets (streams, S) with S = ceil(N / streams).

    Stream b covers targets ids[1 + o_b : 1 + o_b + n_b] and reads inputs ids[o_b : o_b +
    n_b], where the n_b are S or S - 1 (the longer ones first) and sum to N."""
    total = ids.numel() - 1
    if not 1 <= streams <= total:
        raise ValueError(f"need 1 <= streams <= {total} tokens, got {streams}")
    longest = -(-total // streams)
    long_streams = total - streams * (longest - 1)  # streams of `longest`, the rest one less
    lengths = torch.full((streams,), longest - 1)
    lengths[:long_streams] = longest
    starts = torch.cumsum(lengths, 0) - lengths
    positions = starts[:, None] + torch.arange(longest)
    real = torch.arange(longest) < lengths[:, None]
    positions = positions.clamp(max=total - 1)
    inputs = ids[:-1][positions].masked_fill(~real, PAD_ID)
    targets = ids[1:][positions].masked_fill(~real, IGNORE)
    return inputs, targets


def window_bounds(
    length: int, steps: int, random_length: bool = False, seed: int = 0
) -> list[tuple[int, int]]:
    """The windows [start, end) that cover positions 0..length-1 of the streams, in order.

    Fixed: ``steps`` positions each (the last what is left). Random (AWD-LSTM): as many
    windows as fixed ones, ceil(length / steps), with lengths drawn as AWD-LSTM draws them
    (KEEP_FULL_WINDOW, WINDOW_SD, SHORTEST_WINDOW) from ``seed``, then scaled to tile the
    streams exactly, so an epoch has the same number of windows whatever the draw."""
    if not random_length:
        return [(s, min(s + steps, length)) for s in range(0, length, steps)]
    count = -(-length // steps)
    rng = np.random.default_rng(seed % 2**64)
    base = np.where(rng.random(count) < KEEP_FULL_WINDOW, steps, steps / 2)
    drawn = np.maximum(min(SHORTEST_WINDOW, steps), rng.normal(base, WINDOW_SD))
    ends = np.rint(length * np.cumsum(drawn) / drawn.sum()).astype(np.int64)
    bounds, start = [], 0
    for index, end in enumerate(ends.tolist()):
        end = max(end, start + 1)  # every window at least one position ...
        end = min(end, length - (count - index - 1))  # ... and room for the ones after it
        bounds.append((start, end))
        start = end
    return bounds


class StreamWindows(ResumableBatches):
    """The training windows of an epoch over streams of ``length`` positions, resumable
    inside an epoch (seqlab.data.batching.ResumableBatches). With ``random_length`` each
    epoch draws its own lengths from a key drawn as the shuffled samplers draw theirs (from
    torch's global generator); fixed windows draw nothing. Under DDP every rank runs every
    window, over its own share of the streams (:class:`StreamDataset`)."""

    def __init__(self, length: int, steps: int, random_length: bool) -> None:
        super().__init__()
        self.length, self.steps, self.random_length = length, steps, random_length

    def new_epoch_key(self) -> int:
        if not self.random_length:
            return 0
        return int(torch.empty((), dtype=torch.int64).random_().item())

    def epoch_batches(self, key: int) -> list[list[int]]:
        windows = window_bounds(self.length, self.steps, self.random_length, key)
        return [[start, end] for start, end in windows]

    def shard(self, batches: list[list[int]], rank: int, size: int) -> list[list[int]]:
        return batches  # the ranks share the streams out, not the windows

    def __len__(self) -> int:
        return -(-self.length // self.steps)


class StreamDataset(Dataset):
    """inputs, targets (streams, S); item [start, end] -> the batch of that window:
    inputs (streams, end - start), targets alike."""

    def __init__(self, inputs: Tensor, targets: Tensor) -> None:
        self.inputs, self.targets = inputs, targets

    def __len__(self) -> int:
        return self.inputs.size(1)

    def __getitem__(self, window: Any) -> Batch:
        start, end = (int(v) for v in window)
        return {
            "inputs": self.inputs[:, start:end].contiguous(),
            "targets": self.targets[:, start:end].contiguous(),
        }


def training_stream_loader(
    ids: Tensor, batch_size: int, steps: int, random_length: bool
) -> ResumableLoader:
    """The training text as ``batch_size`` streams per process (under DDP the text is cut
    into batch_size x processes streams and each rank takes its own), in windows of
    ``steps`` positions, resumable."""
    rank, size = world()
    inputs, targets = stream_layout(ids, batch_size * size)
    mine = slice(rank * batch_size, (rank + 1) * batch_size)
    dataset = StreamDataset(inputs[mine], targets[mine])
    sampler = StreamWindows(inputs.size(1), steps, random_length)
    return ResumableLoader(dataset, sampler=sampler, batch_size=None)


def evaluation_stream_loader(ids: Tensor, streams: int, steps: int) -> DataLoader:
    """A validation or test text as ``streams`` streams (fewer when the text has fewer
    tokens), in consecutive windows of ``steps`` positions: every token scored once."""
    inputs, targets = stream_layout(ids, min(streams, ids.numel() - 1))
    windows = [[s, e] for s, e in window_bounds(inputs.size(1), steps)]
    return DataLoader(StreamDataset(inputs, targets), sampler=windows, batch_size=None)
