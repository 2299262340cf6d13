"""Train / validation / test splits of synthetic tasks: disjoint seeds from one data seed, and
the data module of tasks whose splits are pre-generated tensors."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader

from seqlab.data.batching import batch_loader
from seqlab.spec import Batch

SPLITS = ("train", "val", "test")
# Offsets of each split's seed; "extra" seeds material added to a split (sentiment's
# order-dependent test pairs).
_SEED_OFFSETS = {"train": 1, "val": 2, "test": 3, "extra": 99}


def split_seed(data_seed: int, split: str) -> int:
    """The seed of one split: disjoint across splits and data seeds."""
    return 1_000_003 * data_seed + _SEED_OFFSETS[split]


def split_generators(data_seed: int) -> dict[str, torch.Generator]:
    """Independent torch generators for train / val / test."""
    return {split: torch.Generator().manual_seed(split_seed(data_seed, split)) for split in SPLITS}


class TensorSplitsDataModule(L.LightningDataModule):
    """Base of the tasks whose splits are pre-generated tensors (copy, tagging): subclasses
    fill ``self.splits`` in setup(); batches are slices of those tensors."""

    batch_size: int
    splits: dict[str, Batch]

    def train_dataloader(self) -> DataLoader:
        return batch_loader(self.splits["train"], self.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return batch_loader(self.splits["val"], self.batch_size, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return batch_loader(self.splits["test"], self.batch_size, shuffle=False)
