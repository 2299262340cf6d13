"""Real parallel data from local TSV files: one ``source<TAB>target`` pair per line.

The text is kept as it is in the file; the tokenizer (subword units by default, trained on the
training file) and the vocabularies come from the training file and are saved in every
checkpoint. BLEU compares detokenised hypotheses with the file's own target lines.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from pathlib import Path

import lightning as L

from seqlab.config import TaskConfig, require_at_least, store_schema
from seqlab.errors import ConfigError, DataFileError
from seqlab.spec import SEQ2SEQ
from seqlab.tasks import encoded_cache
from seqlab.tasks.files import read_data_bytes, read_data_lines, read_data_text
from seqlab.tasks.seq2seq_data import (
    SPLITS,
    Seq2SeqDataModule,
    TextPair,
    Tokenization,
    check_vocabulary_and_batching,
)


@dataclass
class TsvConfig(TaskConfig):
    """tsv: your parallel data. train_path, valid_path, test_path: ``source<TAB>target``
    files (relative paths from the directory you run seqlab in). tokenizer: sentencepiece
    (subword units, trained on the training file: ``vocab_size`` pieces per side, or for both
    sides with ``shared_vocab``; ``sentencepiece_model`` bpe | unigram) | word (words and
    punctuation) | whitespace. lowercase: lowercase the text the model sees (BLEU still
    compares with the file's references; ``decoding.bleu_lowercase`` scores without case).
    min_freq, max_vocab: rarer training tokens become <unk>; at most max_vocab per side.
    batch_size, batch_tokens, data_seed: as for translation. cache: keep the encoded files
    (tokenizers, vocabularies, ids) in ``$SEQLAB_CACHE_DIR`` (default ~/.cache/seqlab) and
    reuse them while the files and these options are unchanged
    (seqlab.tasks.encoded_cache)."""

    _target_: str = "seqlab.tasks.tsv.TsvConfig"
    name: str = "tsv"
    train_path: str | None = None
    valid_path: str | None = None
    test_path: str | None = None
    tokenizer: str = "sentencepiece"
    vocab_size: int = 8000
    sentencepiece_model: str = "bpe"
    shared_vocab: bool = False
    lowercase: bool = False
    min_freq: int = 1
    max_vocab: int | None = None
    batch_size: int = 64
    batch_tokens: int | None = None
    data_seed: int = 0
    cache: bool = True

    offers = (SEQ2SEQ,)

    def __post_init__(self) -> None:
        require_paths(self, "source<TAB>target")
        require_at_least("task", 1, batch_size=self.batch_size, min_freq=self.min_freq)
        check_vocabulary_and_batching(self.batch_tokens, self.max_vocab)
        self.tokenization.check()

    @property
    def tokenization(self) -> Tokenization:
        return Tokenization(
            self.tokenizer,
            self.lowercase,
            self.vocab_size,
            self.sentencepiece_model,
            self.shared_vocab,
        )

    def build(self, output: str) -> L.LightningDataModule:
        return TsvTranslationDataModule(self)


def require_paths(config: TaskConfig, layout: str) -> None:
    """train_path, valid_path and test_path must be set (tsv, text_tsv)."""
    for key in ("train_path", "valid_path", "test_path"):
        if not getattr(config, key):
            raise ConfigError(
                f"task.{key} is not set; give a {layout} file (task.{key}=data/{key[:-5]}.tsv)"
            )


def read_tsv_columns(path: str | Path) -> tuple[list[str], list[str]]:
    """The sources and targets of a ``source<TAB>target`` file, as :func:`read_tsv_pairs`
    reads them. A well-formed file (one tab on every line, no blank line or side) is split
    in a few passes over the whole text; any other goes line by line, for the message."""
    _, text = read_data_text(path, "source<TAB>target")
    lines = text.split("\n")
    if "\r" in text:
        lines = [line.rstrip("\r") for line in lines]
    if lines and not lines[-1]:
        lines.pop()  # the final line end
    one_tab_each = text.count("\t") == len(lines) and all(
        map(str.__contains__, lines, itertools.repeat("\t"))
    )
    if lines and one_tab_each:
        fields = "\t".join(lines).split("\t")  # every line has exactly one tab
        sources, targets = fields[0::2], fields[1::2]
        if all(map(str.strip, sources)) and all(map(str.strip, targets)):
            return sources, targets
    pairs = read_tsv_pairs(path)
    return [s for s, _ in pairs], [t for _, t in pairs]


def read_tsv_pairs(path: str | Path) -> list[TextPair]:
    """The ``source<TAB>target`` lines of a file, as they are; blank lines are skipped,
    anything else malformed is an error naming the file and line number."""
    path, lines = read_data_lines(path, "source<TAB>target")
    pairs: list[TextPair] = []
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
        if not source.strip() or not target.strip():
            side = "source" if not source.strip() else "target"
            raise DataFileError(f"{path}:{number}: the {side} side is empty")
        pairs.append((source, target))
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
            tokenization=config.tokenization,
        )
        self.cache = config.cache
        self.paths = {
            "train": config.train_path,
            "val": config.valid_path,
            "test": config.test_path,
        }

    def cache_key(self) -> str | None:
        if not self.cache:
            return None
        options = {
            **dataclasses.asdict(self.tokenization),
            "min_freq": self.min_freq,
            "max_vocab": self.max_vocab,
        }
        return encoded_cache.files_key([str(p) for p in self.paths.values()], options)

    def make_texts(self) -> dict[str, list[TextPair]]:
        return {split: read_tsv_pairs(str(path)) for split, path in self.paths.items()}

    def make_columns(
        self, splits: tuple[str, ...] = SPLITS
    ) -> dict[str, tuple[list[str], list[str]]]:
        return {split: read_tsv_columns(str(self.paths[split])) for split in splits}

    def training_file(self) -> bytes | None:
        _, raw = read_data_bytes(str(self.paths["train"]), "source<TAB>target")
        if not raw:
            return None  # read_tsv_pairs says the file is empty
        return raw if raw.endswith(b"\n") else raw + b"\n"


store_schema("task", "tsv", TsvConfig)
