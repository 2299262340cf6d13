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

from seqlab.config import TaskConfig, require_at_least, store_schema
from seqlab.errors import DataFileError
from seqlab.spec import SEQUENCE, TaskSpec
from seqlab.tasks.batching import Batch, length_loader
from seqlab.tasks.files import read_data_lines
from seqlab.tasks.seq2seq_data import Tokenization, check_vocabulary_and_batching
from seqlab.tasks.tokenizers import Tokenizer
from seqlab.tasks.tsv import require_paths
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


def read_text_tsv(
    path: str | Path, labels: list[str] | None
) -> tuple[list[tuple[str, int]], list[str]]:
    """``text<TAB>label`` lines -> (text as in the file, class index) and the class names. A
    label is a class name from ``labels`` or an integer index into it; with ``labels`` unset,
    the names found in the file (sorted) become the classes."""
    path, lines = read_data_lines(path, "text<TAB>label")
    rows: list[tuple[int, str, str]] = []
    for number, line in lines:
        if "\t" not in line:
            raise DataFileError(f"{path}:{number}: no tab; expected 'text<TAB>label'")
        text, label = line.rsplit("\t", 1)
        if not text.strip():
            raise DataFileError(f"{path}:{number}: the text is empty")
        rows.append((number, text, label.strip()))
    if not rows:
        raise DataFileError(f"{path} holds no examples (the file is empty)")
    names = list(labels) if labels else sorted({r[2] for r in rows if not r[2].isdigit()})
    if not names:
        names = [str(i) for i in range(max(int(r[2]) for r in rows) + 1)]
    examples = []
    for number, text, label in rows:
        if label in names:
            index = names.index(label)
        elif label.isdigit() and int(label) < len(names):
            index = int(label)
        else:
            raise DataFileError(
                f"{path}:{number}: label {label!r} is neither a class ({', '.join(names)}) nor "
                f"an integer below {len(names)}"
            )
        examples.append((text, index))
    return examples, names


@dataclass
class TextTsvConfig(TaskConfig):
    """text_tsv: your text classification data. train_path, valid_path, test_path:
    ``text<TAB>label`` files. labels: class names in order (null: the names found in the
    training file, sorted). tokenizer: word (words and punctuation, default) | whitespace |
    sentencepiece (``vocab_size`` pieces, ``sentencepiece_model`` bpe | unigram, trained on the
    training file). lowercase (default true), min_freq, max_vocab, batch_size, data_seed."""

    _target_: str = "seqlab.tasks.text_classification.TextTsvConfig"
    name: str = "text_tsv"
    train_path: str | None = None
    valid_path: str | None = None
    test_path: str | None = None
    labels: list[str] | None = None
    tokenizer: str = "word"
    vocab_size: int = 8000
    sentencepiece_model: str = "bpe"
    lowercase: bool = True
    min_freq: int = 1
    max_vocab: int | None = None
    batch_size: int = 64
    data_seed: int = 0

    offers = (SEQUENCE,)

    def __post_init__(self) -> None:
        require_paths(self, "text<TAB>label")
        require_at_least("task", 1, batch_size=self.batch_size, min_freq=self.min_freq)
        check_vocabulary_and_batching(None, self.max_vocab)
        self.tokenization.check()

    @property
    def tokenization(self) -> Tokenization:
        return Tokenization(
            self.tokenizer, self.lowercase, self.vocab_size, self.sentencepiece_model
        )

    def build(self, output: str) -> L.LightningDataModule:
        return TextTsvDataModule(self)


class TextTsvDataModule(TextClassificationDataModule):
    """Your own text classification data from train / valid / test TSV files."""

    def __init__(self, config: TextTsvConfig) -> None:
        super().__init__(
            config.name, config.batch_size, config.min_freq, config.max_vocab, config.data_seed
        )
        self.paths = {
            "train": config.train_path,
            "val": config.valid_path,
            "test": config.test_path,
        }
        self.labels = list(config.labels) if config.labels else None
        self.tokenization = config.tokenization
        self._names: list[str] | None = None

    def make_examples(self) -> dict[str, list[TextExample]]:
        train, names = read_text_tsv(str(self.paths["train"]), self.labels)
        self._names = names
        rows = {
            "train": train,
            "val": read_text_tsv(str(self.paths["val"]), names)[0],
            "test": read_text_tsv(str(self.paths["test"]), names)[0],
        }
        if self.source_tokenizer is None:
            self.source_tokenizer = self.tokenization.build([text for text, _ in train])
        tokenizer = self.source_tokenizer
        return {
            split: [
                TextExample(words, label)
                for words, (_, label) in zip(
                    tokenizer.encode_all([text for text, _ in examples]), examples, strict=True
                )
            ]
            for split, examples in rows.items()
        }

    def label_names(self) -> list[str]:
        if self._names is None:
            self.setup()
        assert self._names is not None
        return self._names


store_schema("task", "text_tsv", TextTsvConfig)
