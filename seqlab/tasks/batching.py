"""Batches: slices of pre-generated tensors, or groups of similar length (padded, never
packed). Every task's loaders come from here."""

from __future__ import annotations

import random
from collections.abc import Iterator

import torch
from torch import Tensor
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
)

Batch = dict[str, Tensor]


def count_tokens(batch: Batch) -> int:
    """Real (non-padding) tokens a training batch feeds the model: inputs for per-step and
    sequence tasks, source plus target for seq2seq."""
    if "src" in batch:
        return int(batch["src_lengths"].sum()) + int((batch["tgt_out"] != 0).sum())
    lengths = batch.get("lengths")
    return int(lengths.sum()) if lengths is not None else batch["inputs"].numel()


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
        return {name: t[index] for name, t in self.tensors.items()}


def batch_loader(tensors: Batch, batch_size: int, shuffle: bool) -> DataLoader:
    """A DataLoader that slices whole batches out of pre-generated tensors (no per-item work)."""
    dataset = TensorDictDataset(tensors)
    base = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
    return DataLoader(
        dataset, sampler=BatchSampler(base, batch_size, drop_last=False), batch_size=None
    )


class LengthBatchSampler(Sampler[list[int]]):
    """Batches of similar length; shuffled batch order (and ties) when ``shuffle``.

    ``batch_tokens`` (optional) sizes batches by tokens instead of sentences: as many
    sentences as fit in batch_tokens tokens (padding included), so every optimizer step sees
    about the same amount of text whatever the sentence lengths (as in MT toolkits).
    """

    def __init__(
        self,
        lengths: list[int],
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
        batch_tokens: int | None = None,
    ) -> None:
        self.lengths = lengths
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self.num_batches = len(self._batches(list(range(len(lengths)))))

    def _batches(self, order: list[int]) -> list[list[int]]:
        order = sorted(order, key=lambda i: self.lengths[i])
        if self.batch_tokens is None:
            return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        batches: list[list[int]] = [[]]
        for i in order:  # ascending lengths: the newest sentence is the batch's longest
            if batches[-1] and (len(batches[-1]) + 1) * self.lengths[i] > self.batch_tokens:
                batches.append([])
            batches[-1].append(i)
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        rng = random.Random(self.seed + self.epoch)
        self.epoch += 1
        order = list(range(len(self.lengths)))
        if self.shuffle:
            rng.shuffle(order)  # random order among equal lengths (the sort is stable)
        batches = self._batches(order)
        if self.shuffle:
            rng.shuffle(batches)
        yield from batches

    def __len__(self) -> int:
        return self.num_batches


def length_loader(
    dataset: Dataset,
    lengths: list[int],
    batch_size: int,
    shuffle: bool,
    seed: int,
    batch_tokens: int | None = None,
) -> DataLoader:
    """A DataLoader of :class:`LengthBatchSampler` batches; ``dataset[list_of_indices]``
    returns one padded batch."""
    sampler = LengthBatchSampler(lengths, batch_size, shuffle, seed, batch_tokens)
    return DataLoader(dataset, sampler=sampler, batch_size=None)
