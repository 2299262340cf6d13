"""What every task hands to the rest of seqlab: a spec (shapes and metric names) and loaders."""

from __future__ import annotations

from dataclasses import dataclass, field

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

Batch = dict[str, Tensor]

# The three output shapes seqlab trains; each has one objective (seqlab/objectives/).
PER_STEP, SEQUENCE, SEQ2SEQ = "per_step", "sequence", "seq2seq"


@dataclass
class TaskSpec:
    """Sizes and metric names a task reports after its data is built.

    output: per_step (one label per input position), sequence (one label per sequence) or
        seq2seq (a new output sequence).
    vocab_size / num_classes: input vocabulary and output classes (target vocabulary for
        seq2seq). pad_id: the input padding id (0 where unused).
    fixed_length: every sequence has the same length (no padding), which truncated BPTT needs.
    focus_metric: name of the accuracy over the positions marked in ``batch["focus"]``
        (copy: recall_acc over the symbols to recall; tagging: acc_ambiguous).
    baseline_ce: a reference cross-entropy logged beside the model's (copy: memoryless).
    """

    name: str
    output: str
    vocab_size: int
    num_classes: int
    pad_id: int = 0
    fixed_length: bool = False
    focus_metric: str | None = None
    baseline_ce: float | None = None
    extra: dict = field(default_factory=dict)


def require_at_least_one(**values: int) -> None:
    """Raise ValueError naming the first task option below 1."""
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"task.{name} must be >= 1, got {value}")


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


def split_generators(data_seed: int) -> dict[str, torch.Generator]:
    """Independent generators for train / val / test from disjoint seeds."""
    return {
        split: torch.Generator().manual_seed(1_000_003 * data_seed + offset)
        for offset, split in enumerate(("train", "val", "test"), start=1)
    }


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
