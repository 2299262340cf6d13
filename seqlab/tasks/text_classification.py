"""Shared pipeline of the sequence-classification tasks (synthetic sentiment, TSV text).

Examples are (words, label, focus); ``focus`` marks the test examples of the task's focus
metric (sentiment: the order-dependent pairs). Batches of similar length, padded:
inputs (B, T) long, lengths (B,), labels (B,), focus (B,) bool.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from seqlab.tasks.base import SEQUENCE, Batch, TaskSpec
from seqlab.tasks.seq2seq_data import LengthBatchSampler
from seqlab.tasks.tsv import DataFileError
from seqlab.tasks.vocab import PAD_ID, Vocab


@dataclass
class TextExample:
    words: list[str]
    label: int
    focus: bool = False


class EncodedTexts(Dataset):
    def __init__(self, examples: list[TextExample], vocab: Vocab) -> None:
        self.examples = examples
        self.ids = [torch.tensor(vocab.encode(e.words), dtype=torch.long) for e in examples]
        self.lengths = [len(e.words) for e in examples]

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: list[int]) -> Batch:
        longest = max(self.lengths[i] for i in index)
        inputs = torch.full((len(index), longest), PAD_ID, dtype=torch.long)
        for row, i in enumerate(index):
            inputs[row, : self.lengths[i]] = self.ids[i]
        return {
            "inputs": inputs,
            "lengths": torch.tensor([self.lengths[i] for i in index]),
            "labels": torch.tensor([self.examples[i].label for i in index]),
            "focus": torch.tensor([self.examples[i].focus for i in index]),
        }


class TextClassificationDataModule(L.LightningDataModule):
    """Base: subclasses implement make_examples() and label_names()."""

    task_name = "text"
    focus_metric: str | None = "acc_order_dependent"

    def __init__(
        self,
        batch_size: int = 64,
        min_freq: int = 1,
        max_vocab: int | None = None,
        data_seed: int = 0,
    ) -> None:
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"task.batch_size must be >= 1, got {batch_size}")
        self.batch_size = batch_size
        self.min_freq, self.max_vocab = min_freq, max_vocab
        self.data_seed = data_seed
        self.splits: dict[str, EncodedTexts] = {}
        self.source_vocab: Vocab | None = None

    def make_examples(self) -> dict[str, list[TextExample]]:
        raise NotImplementedError

    def label_names(self) -> list[str]:
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        examples = self.make_examples()
        if self.source_vocab is None:
            self.source_vocab = Vocab.build(
                (e.words for e in examples["train"]), self.min_freq, self.max_vocab
            )
        self.splits = {k: EncodedTexts(v, self.source_vocab) for k, v in examples.items()}

    @property
    def spec(self) -> TaskSpec:
        if self.source_vocab is None:
            self.setup()
        assert self.source_vocab is not None
        return TaskSpec(
            name=self.task_name,
            output=SEQUENCE,
            vocab_size=len(self.source_vocab),
            num_classes=len(self.label_names()),
            focus_metric=self.focus_metric,
            extra={"labels": self.label_names()},
        )

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        data = self.splits[split]
        sampler = LengthBatchSampler(data.lengths, self.batch_size, shuffle, self.data_seed)
        return DataLoader(data, sampler=sampler, batch_size=None)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", False)


def read_text_tsv(
    path: str | Path, labels: list[str] | None, lowercase: bool
) -> tuple[list[TextExample], list[str]]:
    """``text<TAB>label`` lines. A label is a class name from ``labels`` or an integer index
    into it; with ``labels`` unset, the names found in the file (sorted) become the classes."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataFileError(
            f"data file {path.resolve()} does not exist. Give task.train_path / "
            f"task.valid_path / task.test_path as text<TAB>label files."
        )
    rows: list[tuple[int, list[str], str]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if "\t" not in line:
                raise DataFileError(f"{path}:{number}: no tab; expected 'text<TAB>label'")
            text, label = line.rsplit("\t", 1)
            words = (text.lower() if lowercase else text).split()
            if not words:
                raise DataFileError(f"{path}:{number}: the text is empty")
            rows.append((number, words, label.strip()))
    if not rows:
        raise DataFileError(f"{path} holds no examples (the file is empty)")
    names = list(labels) if labels else sorted({r[2] for r in rows if not r[2].isdigit()})
    if not names:
        names = [str(i) for i in range(max(int(r[2]) for r in rows) + 1)]
    examples = []
    for number, words, label in rows:
        if label in names:
            index = names.index(label)
        elif label.isdigit() and int(label) < len(names):
            index = int(label)
        else:
            raise DataFileError(
                f"{path}:{number}: label {label!r} is neither a class ({', '.join(names)}) nor "
                f"an integer below {len(names)}"
            )
        examples.append(TextExample(words, index))
    return examples, names


class TextTsvDataModule(TextClassificationDataModule):
    """Your own text classification data from train / valid / test TSV files."""

    task_name = "text_tsv"
    focus_metric = None

    def __init__(
        self,
        train_path: str,
        valid_path: str,
        test_path: str,
        labels: list[str] | None = None,
        lowercase: bool = False,
        batch_size: int = 64,
        min_freq: int = 1,
        max_vocab: int | None = None,
        data_seed: int = 0,
    ) -> None:
        super().__init__(batch_size, min_freq, max_vocab, data_seed)
        self.paths = {"train": train_path, "val": valid_path, "test": test_path}
        for key, value in zip(
            ("train_path", "valid_path", "test_path"), self.paths.values(), strict=True
        ):
            if not value:
                raise DataFileError(f"task.{key} is not set; give a text<TAB>label file")
        self.labels = list(labels) if labels else None
        self.lowercase = lowercase
        self._names: list[str] | None = None

    def make_examples(self) -> dict[str, list[TextExample]]:
        train, names = read_text_tsv(self.paths["train"], self.labels, self.lowercase)
        self._names = names
        return {
            "train": train,
            "val": read_text_tsv(self.paths["val"], names, self.lowercase)[0],
            "test": read_text_tsv(self.paths["test"], names, self.lowercase)[0],
        }

    def label_names(self) -> list[str]:
        if self._names is None:
            self.setup()
        assert self._names is not None
        return self._names
