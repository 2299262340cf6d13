"""Real parallel data from local TSV files: one ``source<TAB>target`` pair per line.

Whitespace tokenisation, optional lowercasing; the vocabularies come from the training file
(min_freq / max_vocab, rare words become <unk>) and are saved in every checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lightning as L

from seqlab.config import TaskConfig, require_at_least, store_schema
from seqlab.errors import ConfigError, DataFileError
from seqlab.spec import SEQ2SEQ
from seqlab.tasks.files import read_data_lines
from seqlab.tasks.seq2seq_data import Pair, Seq2SeqDataModule, check_vocabulary_and_batching


@dataclass
class TsvConfig(TaskConfig):
    """tsv: your parallel data. train_path, valid_path, test_path: ``source<TAB>target``
    files (relative paths from the directory you run seqlab in). lowercase: lowercase both
    sides. min_freq, max_vocab: rarer training words become <unk>; at most max_vocab words per
    side. batch_size, batch_tokens, data_seed: as for translation."""

    _target_: str = "seqlab.tasks.tsv.TsvConfig"
    name: str = "tsv"
    train_path: str | None = None
    valid_path: str | None = None
    test_path: str | None = None
    lowercase: bool = False
    min_freq: int = 1
    max_vocab: int | None = None
    batch_size: int = 64
    batch_tokens: int | None = None
    data_seed: int = 0

    offers = (SEQ2SEQ,)

    def __post_init__(self) -> None:
        require_paths(self, "source<TAB>target")
        require_at_least("task", 1, batch_size=self.batch_size, min_freq=self.min_freq)
        check_vocabulary_and_batching(self.batch_tokens, self.max_vocab)

    def build(self, output: str) -> L.LightningDataModule:
        return TsvTranslationDataModule(self)


def require_paths(config: TaskConfig, layout: str) -> None:
    """train_path, valid_path and test_path must be set (tsv, text_tsv)."""
    for key in ("train_path", "valid_path", "test_path"):
        if not getattr(config, key):
            raise ConfigError(
                f"task.{key} is not set; give a {layout} file (task.{key}=data/{key[:-5]}.tsv)"
            )


def read_tsv_pairs(path: str | Path, lowercase: bool = False) -> list[Pair]:
    """Read ``source<TAB>target`` lines; blank lines are skipped, anything else malformed
    is an error naming the file and line number."""
    path, lines = read_data_lines(path, "source<TAB>target")
    pairs: list[Pair] = []
    for number, line in lines:
        if "\t" not in line:
            raise DataFileError(
                f"{path}:{number}: no tab in this line; expected 'source<TAB>target', got "
                f"{line[:60]!r}"
            )
        source, target, *rest = line.split("\t")
        if rest:
            raise DataFileError(
                f"{path}:{number}: {len(rest) + 2} tab-separated columns; expected 2 "
                f"(source<TAB>target)"
            )
        if lowercase:
            source, target = source.lower(), target.lower()
        source_words, target_words = source.split(), target.split()
        if not source_words or not target_words:
            side = "source" if not source_words else "target"
            raise DataFileError(f"{path}:{number}: the {side} side is empty")
        pairs.append((source_words, target_words))
    if not pairs:
        raise DataFileError(f"{path} holds no sentence pairs (the file is empty)")
    return pairs


class TsvTranslationDataModule(Seq2SeqDataModule):
    """Parallel data from train / valid / test TSV files."""

    def __init__(self, config: TsvConfig) -> None:
        super().__init__(
            config.name,
            config.batch_size,
            config.min_freq,
            config.max_vocab,
            config.data_seed,
            config.batch_tokens,
        )
        self.paths = {
            "train": config.train_path,
            "val": config.valid_path,
            "test": config.test_path,
        }
        self.lowercase = config.lowercase

    def make_pairs(self) -> dict[str, list[Pair]]:
        return {
            split: read_tsv_pairs(str(path), self.lowercase) for split, path in self.paths.items()
        }


store_schema("task", "tsv", TsvConfig)
