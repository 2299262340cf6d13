"""Batches: slices of pre-generated tensors, or groups of similar length (padded, never
packed). Every task's loaders come from here.

Training loaders are resumable (:class:`ResumableLoader`): their batch samplers know the
epoch's shuffle and how many of its batches training has used, Lightning saves that in every
checkpoint, and a resumed run continues inside the epoch with the next batch, in the same
order as if it had never stopped.

Under DDP (trainer.devices > 1) the training samplers are rank-aware: every rank draws the
same epoch order (the epoch key is agreed on by rank 0) and takes its own disjoint shard of
it, so across ranks each training example is used once per epoch and every rank takes the
same number of steps (see :func:`shard_batches`). Evaluation loaders are not sharded: every
rank evaluates the whole split, so metrics (BLEU included) are exact and the same on every
rank.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler, SequentialSampler

from seqlab.spec import Batch
from seqlab.text.vocab import PAD_ID


def count_tokens(batch: Batch) -> int | Tensor:
    """Real (non-padding) tokens a training batch feeds the model: inputs for per-step and
    sequence tasks, source plus target for seq2seq. A batch on a GPU gets a 0-d tensor there
    (reading it back would stall the host at every step)."""
    if "src" in batch:
        total = batch["src_lengths"].sum() + (batch["tgt_out"] != 0).sum()
    elif batch.get("lengths") is not None:
        total = batch["lengths"].sum()
    else:
        return batch["inputs"].numel()
    return total if total.device.type == "cuda" else int(total)


def padded_rows(ids: np.ndarray, offsets: np.ndarray, rows: np.ndarray, width: int) -> np.ndarray:
    """Rows ``rows`` of texts held in one flat id array (text i is ``ids[offsets[i]:offsets[i
    + 1]]``), padded with PAD_ID to ``width``: (B, width) int64. A few numpy operations, a
    handful of microseconds each, with no Python loop over the batch."""
    starts, ends = offsets[rows], offsets[rows + 1]
    positions = starts[:, None] + np.arange(width)
    if not len(ids):
        return np.full(positions.shape, PAD_ID, dtype=np.int64)
    padded = ids.take(positions, mode="clip").astype(np.int64)  # clip: past the last text
    padded[positions >= ends[:, None]] = PAD_ID
    return padded


def rows_of(
    ids: np.ndarray, offsets: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Texts ``rows`` of a flat id array (the layout of :func:`flat_ids`) as a new flat
    array and its offsets."""
    lengths = np.diff(offsets)[rows]
    new_offsets = np.zeros(len(rows) + 1, dtype=offsets.dtype)
    np.cumsum(lengths, out=new_offsets[1:])
    gather = np.repeat(offsets[rows] - new_offsets[:-1], lengths) + np.arange(new_offsets[-1])
    return ids[gather], new_offsets


def flat_ids(texts: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Texts of ids as one flat int64 array and the offsets (N + 1,) of their starts, the
    layout :func:`padded_rows` reads."""
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(text) for text in texts], out=offsets[1:])
    ids = np.fromiter((i for text in texts for i in text), dtype=np.int64, count=int(offsets[-1]))
    return ids, offsets


class TensorDictDataset(Dataset):
    """Tensors with a shared first dimension, indexed a whole batch at a time."""

    def __init__(self, tensors: Batch) -> None:
        sizes = {name: t.size(0) for name, t in tensors.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"tensors must share their first dimension, got {sizes}")
        self.tensors = tensors
        self.size = next(iter(sizes.values()))

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: list[int] | Tensor) -> Batch:
        index = torch.as_tensor(index)
        device = next(iter(self.tensors.values())).device
        if device.type == "cuda" and index.device != device:
            # through pinned memory, so the copy does not stall the host (a pageable copy
            # synchronises the stream)
            index = index.pin_memory().to(device, non_blocking=True)
        return {name: t[index] for name, t in self.tensors.items()}

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.tensors.values())

    def to(self, device: torch.device) -> TensorDictDataset:
        """The same examples held on ``device``: batches are then gathered there, by index."""
        self.tensors = {name: t.to(device) for name, t in self.tensors.items()}
        return self


def world() -> tuple[int, int]:
    """(rank, world size) of the DDP process group; (0, 1) without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def agreed(value: int) -> int:
    """``value`` as rank 0 has it (every rank calls this at the same point)."""
    if world()[1] == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return int(box[0])


def shard_batches(batches: list[list[int]], rank: int, size: int) -> list[list[int]]:
    """Rank ``rank`` of ``size``'s share of an epoch's batches: batches rank, rank + size,
    ... of the whole ones; the fewer-than-``size`` batches left over are pooled and dealt out
    one example at a time, so every rank gets the same number of batches and each example
    goes to one rank. (When fewer than ``size`` examples are left over, they are skipped
    this epoch: a rank cannot take an empty step.)"""
    if size == 1:
        return batches
    whole = len(batches) // size * size
    mine = batches[rank:whole:size]
    rest = [i for batch in batches[whole:] for i in batch]
    if len(rest) >= size:
        mine.append(rest[rank::size])
    return mine


def sharded_length(num_batches: int, size: int) -> int:
    """Batches per rank of an epoch of ``num_batches`` (as :func:`shard_batches`, counting a
    leftover share)."""
    return -(-num_batches // size)


class ResumableBatches(Sampler[list[int]]):
    """Base of the training batch samplers: an epoch's batches, and a state that lets a
    resumed run continue the epoch where it stopped.

    ``consumed`` is the number of this epoch's batches training has started (set by
    seqlab.engine.checkpoint_io.TrackDataPosition, because Lightning fetches one batch ahead);
    ``epoch_key`` identifies the epoch's order. After :meth:`load_state_dict`, the next
    iteration yields the rest of that epoch (nothing if it was complete, then a new epoch).
    Under DDP the key is rank 0's and each rank yields its shard (:meth:`shard`); ``consumed``
    counts the rank's own batches, the same number on every rank.
    """

    def __init__(self) -> None:
        self.consumed = 0
        self.epoch_key: int | None = None
        self._resume: dict[str, int] | None = None
        self._generator: torch.Tensor | None = None
        # set when the dataset lives on a device (seqlab.engine.callbacks.BatchesOnDevice):
        # the epoch's indices go there in one copy and each batch is a slice of them
        self.device: torch.device | None = None

    @property
    def resumes_mid_epoch(self) -> bool:
        """The next iteration continues a partly trained epoch."""
        return self._resume is not None and 0 < self._resume["consumed"] < len(self)

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"epoch_key": self.epoch_key, "consumed": self.consumed}
        if self.epoch_key is not None and self.consumed >= len(self):
            # the epoch is done: the next one draws from torch's generator as it is now
            state["generator"] = torch.get_rng_state()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._resume = {"epoch_key": int(state["epoch_key"]), "consumed": int(state["consumed"])}
        self._generator = state.get("generator")

    def __iter__(self) -> Iterator[list[int]]:
        if self.resumes_mid_epoch:
            assert self._resume is not None
            key, start = self._resume["epoch_key"], self._resume["consumed"]
        else:
            key, start = self._draw_epoch_key(), 0
        self._resume = self._generator = None
        self.epoch_key, self.consumed = key, start
        batches = self.shard(self.epoch_batches(key), *world())[start:]
        if self.device is None:
            yield from batches
            return
        flat = torch.tensor([i for batch in batches for i in batch], dtype=torch.long)
        if self.device.type == "cuda":
            flat = flat.pin_memory()
        flat = flat.to(self.device, non_blocking=True)
        offset = 0
        for batch in batches:
            yield flat[offset : offset + len(batch)]  # type: ignore[misc]
            offset += len(batch)

    def _draw_epoch_key(self) -> int:
        """A new epoch's key: rank 0's under DDP. Resumed at an epoch's end, it is drawn as the
        uninterrupted run drew it: from the generator as saved, after the one draw of the
        DataLoader's new iterator (Lightning may have started more iterators since the
        restore)."""
        if self._generator is not None:
            torch.set_rng_state(self._generator)
            torch.empty((), dtype=torch.int64).random_()
        key = self.new_epoch_key()
        return agreed(key) if self.sharded else key

    @property
    def sharded(self) -> bool:
        """Whether the ranks of a DDP run share out this sampler's batches (training)."""
        return True

    def new_epoch_key(self) -> int:
        raise NotImplementedError

    def epoch_batches(self, key: int) -> list[list[int]]:
        raise NotImplementedError

    def shard(self, batches: list[list[int]], rank: int, size: int) -> list[list[int]]:
        """This rank's batches of the epoch's (all of them in one process)."""
        return shard_batches(batches, rank, size)


class ShuffledBatches(ResumableBatches):
    """The batches of ``BatchSampler(RandomSampler(data), batch_size, drop_last=False)``, with
    the same draw from torch's global generator at the start of each epoch (so results equal
    the stock samplers'), and resumable.

    Under DDP with N ranks, the permutation is cut into global batches of N·batch_size and
    rank r takes the r-th contiguous slice of each: step k of the N ranks together sees
    exactly the examples of step k of one process with batch N·batch_size (the last, partial
    global batch is split as evenly as it goes; one with fewer than N examples is skipped).
    """

    def __init__(self, size: int, batch_size: int) -> None:
        super().__init__()
        self.size, self.batch_size = size, batch_size

    def new_epoch_key(self) -> int:
        return int(torch.empty((), dtype=torch.int64).random_().item())  # as RandomSampler

    def epoch_batches(self, key: int) -> list[list[int]]:
        generator = torch.Generator()
        generator.manual_seed(key)
        order = torch.randperm(self.size, generator=generator).tolist()
        step = self.batch_size * world()[1]  # a global batch: one batch of every rank
        return [order[i : i + step] for i in range(0, self.size, step)]

    def shard(self, batches: list[list[int]], rank: int, size: int) -> list[list[int]]:
        if size == 1:
            return batches
        return [
            batch[rank * len(batch) // size : (rank + 1) * len(batch) // size]
            for batch in batches
            if len(batch) >= size
        ]

    def __len__(self) -> int:
        size = world()[1]
        whole, rest = divmod(self.size, self.batch_size * size)
        return whole + int(rest >= size)


class LengthBatchSampler(ResumableBatches):
    """Batches of similar length; shuffled batch order (and ties) when ``shuffle``.

    The order of epoch e is drawn from ``seed + e`` (its own generator). ``batch_tokens``
    (optional) sizes batches by tokens instead of sentences: as many sentences as fit in
    batch_tokens tokens (padding included), so every optimizer step sees about the same amount
    of text whatever the sentence lengths (as in MT toolkits).
    """

    def __init__(
        self,
        lengths: Sequence[int] | np.ndarray,
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
        batch_tokens: int | None = None,
    ) -> None:
        super().__init__()
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self.num_batches = len(self._cuts(np.sort(self.lengths))) + 1 if len(lengths) else 0

    def _cuts(self, sorted_lengths: np.ndarray) -> np.ndarray:
        """Where batches start (after the first) in sentences sorted by length."""
        if self.batch_tokens is None:
            return np.arange(self.batch_size, len(sorted_lengths), self.batch_size)
        return _token_budget_cuts(sorted_lengths, self.batch_tokens)

    def _batches(self, order: np.ndarray) -> list[list[int]]:
        """``order`` sorted by length (stably: equal lengths keep their order in ``order``),
        cut into batches."""
        if not len(order):
            return []
        order = order[np.argsort(self.lengths[order], kind="stable")]
        return [batch.tolist() for batch in np.split(order, self._cuts(self.lengths[order]))]

    def new_epoch_key(self) -> int:
        return self.epoch

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.epoch = int(state["epoch_key"]) + 1  # the next new epoch

    def epoch_batches(self, key: int) -> list[list[int]]:
        self.epoch = key + 1
        order = np.arange(len(self.lengths))
        if not self.shuffle:
            return self._batches(order)
        rng = np.random.default_rng((self.seed + key) % 2**64)  # any int seed
        batches = self._batches(rng.permutation(order))  # random order among equal lengths
        return [batches[i] for i in rng.permutation(len(batches))]

    @property
    def sharded(self) -> bool:
        return self.shuffle  # an evaluation split: every rank evaluates all of it

    def shard(self, batches: list[list[int]], rank: int, size: int) -> list[list[int]]:
        return shard_batches(batches, rank, size) if self.sharded else batches

    def __len__(self) -> int:
        return sharded_length(self.num_batches, world()[1] if self.sharded else 1)


def _token_budget_cuts(lengths: np.ndarray, budget: int) -> np.ndarray:
    """Where to cut ascending ``lengths`` into batches of at most ``budget`` tokens, padding
    included: each batch takes sentences while (its size + 1) x the next length fits (at least
    one sentence). As the padded size of a batch's first k sentences, k x lengths[k - 1],
    grows with k, each batch's size is one binary search."""
    cuts, start = [], 0
    while start < len(lengths):
        least = int(lengths[start])  # the batch's first length is its least
        widest = max(1, budget // least) if least else len(lengths)  # empty ones all fit
        window = lengths[start : start + widest]
        padded = np.arange(1, len(window) + 1) * window
        start += max(1, int(np.searchsorted(padded, budget, side="right")))
        cuts.append(start)
    return np.asarray(cuts[:-1], dtype=np.int64)


class ResumableLoader(DataLoader):
    """A DataLoader over a :class:`ResumableBatches` sampler whose state Lightning saves in
    checkpoints (the ``state_dict`` / ``load_state_dict`` interface) and restores on resume."""

    sampler: ResumableBatches

    def state_dict(self) -> dict[str, Any]:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sampler.load_state_dict(state)


def batch_loader(tensors: Batch, batch_size: int, shuffle: bool) -> DataLoader:
    """Whole batches sliced out of pre-generated tensors (no per-item work); resumable when
    shuffled (training)."""
    dataset = TensorDictDataset(tensors)
    if shuffle:
        return ResumableLoader(
            dataset, sampler=ShuffledBatches(len(dataset), batch_size), batch_size=None
        )
    batches = BatchSampler(SequentialSampler(dataset), batch_size, drop_last=False)
    return DataLoader(dataset, sampler=batches, batch_size=None)


def length_loader(
    dataset: Dataset,
    lengths: Sequence[int] | np.ndarray,
    batch_size: int,
    shuffle: bool,
    seed: int,
    batch_tokens: int | None = None,
) -> DataLoader:
    """Batches of :class:`LengthBatchSampler`; ``dataset[list_of_indices]`` returns one padded
    batch. Resumable when shuffled (training)."""
    sampler = LengthBatchSampler(lengths, batch_size, shuffle, seed, batch_tokens)
    loader = ResumableLoader if shuffle else DataLoader
    return loader(dataset, sampler=sampler, batch_size=None)
