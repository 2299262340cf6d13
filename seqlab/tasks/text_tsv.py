"""text_tsv: your own labelled text, one ``text<TAB>label`` per line."""

from __future__ import annotations

from dataclasses import dataclass

import lightning as L

from seqlab.config.checks import require_at_least, require_choice
from seqlab.config.schema import TaskConfig
from seqlab.data.files import require_paths
from seqlab.data.labelled_files import LABEL_COLUMNS, read_text_tsv
from seqlab.data.labelled_text import TextClassificationDataModule, TextExample
from seqlab.data.pairs import Tokenization, check_vocabulary_and_batching
from seqlab.spec import SEQUENCE


@dataclass
class TextTsvConfig(TaskConfig):
    """text_tsv: your text classification data. train_path, valid_path, test_path:
    ``text<TAB>label`` files. labels: class names in order (null: the names found in the
    training file, sorted). label_column: last (``text<TAB>label``, default) | first
    (``label<TAB>text``). header: true skips each file's first line, false keeps it, null
    (default) skips it when it names the columns (a label on no other line and no class, a
    text of a few words), saying so. tokenizer: word (words and punctuation, default) | whitespace |
    sentencepiece (``vocab_size`` pieces, ``sentencepiece_model`` bpe | unigram, trained on the
    training file). lowercase (default true), min_freq, max_vocab, batch_size, data_seed."""

    _target_: str = "seqlab.tasks.text_tsv.TextTsvConfig"
    name: str = "text_tsv"
    train_path: str | None = None
    valid_path: str | None = None
    test_path: str | None = None
    labels: list[str] | None = None
    label_column: str = "last"
    header: bool | None = None
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
        require_choice("task.label_column", self.label_column, LABEL_COLUMNS, "first")
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
        self.layout = {"label_column": config.label_column, "header": config.header}
        self.tokenization = config.tokenization
        self._names: list[str] | None = None

    def make_examples(self) -> dict[str, list[TextExample]]:
        if "train" not in self.needed_splits and self.labels and self.source_tokenizer:
            names = self._names = list(self.labels)  # restored from a checkpoint
            rows = {s: self._read(s, names)[0] for s in self.needed_splits}
        else:
            train, names = self._read("train", self.labels)
            self._names = names
            rows = {
                "train": train,
                "val": self._read("val", names)[0],
                "test": self._read("test", names)[0],
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

    def _read(self, split: str, names: list[str] | None) -> tuple[list[tuple[str, int]], list[str]]:
        """(text, class index) of a split's file, and the class names."""
        return read_text_tsv(str(self.paths[split]), names, **self.layout)

    def label_names(self) -> list[str]:
        if self._names is None:
            self.setup()
        assert self._names is not None
        return self._names


# The schemas this module declares, stored in Hydra's ConfigStore by
# seqlab.engine.run_config.register_schemas as schema/task/<name>.
SCHEMAS = {"text_tsv": TextTsvConfig}
