"""Real parallel data from local TSV files: one ``source<TAB>target`` pair per line.

The text is kept as it is in the file; the tokenizer (subword units by default, trained on the
training file) and the vocabularies come from the training file and are saved in every
checkpoint. BLEU compares detokenised hypotheses with the file's own target lines.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import lightning as L

from seqlab.config.checks import require_at_least, require_at_least_or_null
from seqlab.config.schema import TaskConfig
from seqlab.data.files import require_paths
from seqlab.data.pairs import (
    SPLITS,
    Seq2SeqDataModule,
    TextPair,
    Tokenization,
    check_vocabulary_and_batching,
)
from seqlab.data.parallel_files import read_tsv_columns, read_tsv_pairs
from seqlab.spec import SEQ2SEQ
from seqlab.text import cache


@dataclass
class TsvConfig(TaskConfig):
    """tsv: your parallel data. train_path, valid_path, test_path: ``source<TAB>target``
    files (relative paths from the directory you run seqlab in). header: true skips each
    file's first line, false keeps it, null (default) skips it when it names the columns (one
    word a side, such as ``en<TAB>de``, used on no other line), saying so. tokenizer: sentencepiece
    (subword units, trained on the training file: ``vocab_size`` pieces per side, or for both
    sides with ``shared_vocab``; ``sentencepiece_model`` bpe | unigram) | word (words and
    punctuation) | whitespace. lowercase: lowercase the text the model sees (BLEU still
    compares with the file's references; ``decoding.bleu_lowercase`` scores without case).
    min_freq, max_vocab: rarer training tokens become <unk>; at most max_vocab per side.
    max_len: train on the pairs whose source and target both have at most this many tokens
    (of the tokenizer: subword pieces with sentencepiece), as Bahdanau et al. trained
    RNNsearch-30 and -50; null (default): every pair. Validation and test keep every pair.
    batch_size, batch_tokens, data_seed: as for translation. cache: keep the encoded files
    (tokenizers, vocabularies, ids) in ``$SEQLAB_CACHE_DIR`` (default ~/.cache/seqlab) and
    reuse them while the files and these options are unchanged
    (seqlab.text.cache)."""

    _target_: str = "seqlab.tasks.tsv.TsvConfig"
    name: str = "tsv"
    train_path: str | None = None
    valid_path: str | None = None
    test_path: str | None = None
    header: bool | None = None
    tokenizer: str = "sentencepiece"
    vocab_size: int = 8000
    sentencepiece_model: str = "bpe"
    shared_vocab: bool = False
    lowercase: bool = False
    min_freq: int = 1
    max_vocab: int | None = None
    max_len: int | None = None
    batch_size: int = 64
    batch_tokens: int | None = None
    data_seed: int = 0
    cache: bool = True

    offers = (SEQ2SEQ,)

    def __post_init__(self) -> None:
        require_paths(self, "source<TAB>target")
        require_at_least("task", 1, batch_size=self.batch_size, min_freq=self.min_freq)
        check_vocabulary_and_batching(self.batch_tokens, self.max_vocab)
        require_at_least_or_null("task", 1, max_len=self.max_len)
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
            max_train_len=config.max_len,
        )
        self.cache = config.cache
        self.header = config.header
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
            "header": self.header,
        }
        return cache.files_key([str(p) for p in self.paths.values()], options)

    def make_texts(self) -> dict[str, list[TextPair]]:
        return {split: read_tsv_pairs(str(path), self.header) for split, path in self.paths.items()}

    def make_columns(
        self, splits: tuple[str, ...] = SPLITS
    ) -> dict[str, tuple[list[str], list[str]]]:
        return {split: read_tsv_columns(str(self.paths[split]), self.header) for split in splits}


# The schemas this module declares, stored in Hydra's ConfigStore by
# seqlab.engine.run_config.register_schemas as schema/task/<name>.
SCHEMAS = {"tsv": TsvConfig}
