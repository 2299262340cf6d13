"""Shared pipeline of the sequence-classification tasks (synthetic sentiment, TSV text).

Examples are (words, label, focus); ``focus`` marks the test examples of the task's focus
metric (sentiment: the order-dependent pairs). Batches of similar length, padded:
inputs (B, T) long, lengths (B,), labels (B,), focus (B,) bool.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from seqlab.data.batching import length_loader
from seqlab.spec import SEQUENCE, Batch, TaskSpec
from seqlab.text.tokenizers import Tokenizer
from seqlab.text.vocab import PAD_ID, Vocab


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
    """Base: subclasses implement make_examples() and label_names().

    name: the task's name in the spec; focus_metric: the accuracy over the examples marked
    ``focus``; solved_when: the spec's stop criterion, if the task has one.
    """

    def __init__(
        self,
        name: str,
        batch_size: int = 64,
        min_freq: int = 1,
        max_vocab: int | None = None,
        data_seed: int = 0,
        focus_metric: str | None = None,
        solved_when: tuple[str, float] | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.batch_size = batch_size
        self.min_freq, self.max_vocab = min_freq, max_vocab
        self.data_seed = data_seed
        self.focus_metric = focus_metric
        self.solved_when = solved_when
        self.splits: dict[str, EncodedTexts] = {}
        self.needed_splits: tuple[str, ...] = ("train", "val", "test")  # evaluate: one
        self.source_vocab: Vocab | None = None
        self.source_tokenizer: Tokenizer | None = None  # None: the words as they are

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
            name=self.name,
            output=SEQUENCE,
            vocab_size=len(self.source_vocab),
            num_classes=len(self.label_names()),
            focus_metric=self.focus_metric,
            solved_when=self.solved_when,
            source_vocab=self.source_vocab,
            source_tokenizer=self.source_tokenizer,
        )

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        data = self.splits[split]
        return length_loader(data, data.lengths, self.batch_size, shuffle, self.data_seed)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", False)
