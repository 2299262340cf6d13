"""Shared data pipeline of the sequence-to-sequence tasks (translation, TSV, seq2seq copy).

A task provides (source text, target text) pairs per split, as they are in its data; this
module tokenizes them once (seqlab.text.tokenizers; tokenizers and vocabularies come from
the training split), encodes them into flat id arrays (seqlab.text.encoder), and
batches by length: sentences of
similar source length go together (little padding, no packing), batch order is shuffled each
epoch. The raw text of the validation and test splits is kept: BLEU is scored against it.

Batch: src (B, S) long, src_lengths (B,), tgt_in (B, T) = <bos> y1..yn, tgt_out (B, T) =
y1..yn <eos>, padded with 0; index (B,) the pairs' positions in their split.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import lightning as L
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from seqlab.config.checks import require_at_least, require_at_least_or_null, require_choice
from seqlab.data.batching import length_loader, padded_rows, rows_of
from seqlab.data.parallel_files import TextPair
from seqlab.errors import ConfigError
from seqlab.spec import SEQ2SEQ, Batch, TaskSpec
from seqlab.text import cache
from seqlab.text.encoder import CorpusEncoder, vocabulary
from seqlab.text.tokenizers import (
    SENTENCEPIECE_MODELS,
    TOKENIZERS,
    Tokenizer,
    build_tokenizer,
    tokenizer_from_state,
)
from seqlab.text.vocab import BOS_ID, EOS_ID, Vocab

SPLITS = ("train", "val", "test")
SETUP_REPORT_FROM = 2.0  # seconds: a setup that takes longer prints where the time went
OUTLYING_RATIO = 3.0  # a target/source length ratio above it, and far off the others, is named


def check_vocabulary_and_batching(batch_tokens: int | None, max_vocab: int | None) -> None:
    """Shared by the parallel-text tasks: optional sizes must be >= 1 when set."""
    require_at_least_or_null("task", 1, batch_tokens=batch_tokens, max_vocab=max_vocab)


@dataclass
class Tokenization:
    """How a task cuts its text into tokens (the task.* keys of the same names).

    tokenizer: whitespace | word | sentencepiece. lowercase: lowercase the text first.
    vocab_size / sentencepiece_model (bpe | unigram): the subword model trained on the
    training split. shared_vocab: one tokenizer and one vocabulary for both sides.
    """

    tokenizer: str = "whitespace"
    lowercase: bool = False
    vocab_size: int = 8000
    sentencepiece_model: str = "bpe"
    shared_vocab: bool = False

    def check(self) -> None:
        require_choice("task.tokenizer", self.tokenizer, TOKENIZERS, example="sentencepiece")
        require_choice("task.sentencepiece_model", self.sentencepiece_model, SENTENCEPIECE_MODELS)
        require_at_least("task", 8, vocab_size=self.vocab_size)

    def build(self, texts: Sequence[str]) -> Tokenizer:
        return build_tokenizer(
            self.tokenizer, texts, self.lowercase, self.vocab_size, self.sentencepiece_model
        )


def _joined(lines: list[str]) -> str | list[str]:
    """The lines as one string, a newline between them; as they are when that would not
    split back into them (none, or a line holding a newline)."""
    text = "\n".join(lines)
    return text if lines and text.count("\n") == len(lines) - 1 else list(lines)


def _split(lines: str | list[str]) -> list[str]:
    return lines.split("\n") if isinstance(lines, str) else list(lines)


class EncodedPairs(Dataset):
    """Encoded pairs in flat id arrays; indexing with a list of positions returns one padded
    batch, built with a few array operations (numpy: a handful of microseconds each, where
    a torch operation on a small tensor costs ten times that)."""

    def __init__(self, source: tuple[Tensor, Tensor], target: tuple[Tensor, Tensor]) -> None:
        self.src_ids, self.src_offsets = source
        self.tgt_ids, self.tgt_offsets = target
        self._src = self.src_ids.numpy(), self.src_offsets.numpy()
        self._tgt = self.tgt_ids.numpy(), self.tgt_offsets.numpy()
        self.src_lengths: np.ndarray = np.diff(self._src[1])
        self.tgt_lengths: np.ndarray = np.diff(self._tgt[1])

    def __len__(self) -> int:
        return len(self.src_lengths)

    def subset(self, rows: np.ndarray) -> EncodedPairs:
        """The pairs at ``rows`` (positions in this split, in that order), as their own
        flat arrays."""
        source, target = rows_of(*self._src, rows), rows_of(*self._tgt, rows)
        return EncodedPairs(
            (torch.from_numpy(source[0]), torch.from_numpy(source[1])),
            (torch.from_numpy(target[0]), torch.from_numpy(target[1])),
        )

    def length_ratios(self) -> np.ndarray:
        """Each pair's target length over its source length (a 0-token source counts as 1),
        (N,) float64."""
        return self.tgt_lengths / np.maximum(self.src_lengths, 1)

    def __getitem__(self, index: list[int] | np.ndarray) -> Batch:
        rows = np.asarray(index, dtype=np.int64)
        src_lengths, tgt_lengths = self.src_lengths[rows], self.tgt_lengths[rows]
        src = padded_rows(*self._src, rows, int(src_lengths.max()))
        tgt_out = padded_rows(*self._tgt, rows, int(tgt_lengths.max()) + 1)
        tgt_in = np.empty_like(tgt_out)
        tgt_in[:, 0] = BOS_ID
        tgt_in[:, 1:] = tgt_out[:, :-1]
        tgt_out[np.arange(len(rows)), tgt_lengths] = EOS_ID
        batch = {
            "src": src,
            "src_lengths": src_lengths,
            "tgt_in": tgt_in,
            "tgt_out": tgt_out,
            "index": rows,
        }
        return {name: torch.from_numpy(array) for name, array in batch.items()}


class Seq2SeqDataModule(L.LightningDataModule):
    """Base class: subclasses implement :meth:`make_texts` returning train/val/test pairs.

    name: the task's name in the spec; batch_size: sentences per batch (evaluation, and
    training unless batch_tokens); min_freq / max_vocab: vocabulary from the training pairs;
    batch_tokens: training batches of about this many source tokens instead;
    solved_when: the spec's stop criterion, if the task has one; tokenization: see
    :class:`Tokenization`; max_train_len: train on the pairs whose sides both have at most
    this many tokens (validation and test are kept whole). Tokenizers, vocabularies and the
    length ratio set before ``setup()`` (from a checkpoint) are used as they are.
    """

    def __init__(
        self,
        name: str,
        batch_size: int = 64,
        min_freq: int = 1,
        max_vocab: int | None = None,
        data_seed: int = 0,
        batch_tokens: int | None = None,
        solved_when: tuple[str, float] | None = None,
        tokenization: Tokenization | None = None,
        max_train_len: int | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.batch_size = batch_size
        self.min_freq = min_freq
        self.max_vocab = max_vocab
        self.data_seed = data_seed
        self.batch_tokens = batch_tokens
        self.solved_when = solved_when
        self.tokenization = tokenization or Tokenization()
        self.max_train_len = max_train_len
        self.splits: dict[str, EncodedPairs] = {}
        self.needed_splits: tuple[str, ...] = SPLITS  # evaluate reads only the one it scores
        self.raw_text: dict[str, tuple[list[str], list[str]]] = {}
        self.length_ratio: float | None = None  # measured on the training data in setup()
        self.source_vocab: Vocab | None = None
        self.target_vocab: Vocab | None = None
        self.source_tokenizer: Tokenizer | None = None
        self.target_tokenizer: Tokenizer | None = None
        self.setup_seconds: dict[str, float] = {}  # of the last setup that encoded the data
        self.show_progress = False  # a progress bar while tokenizing (python -m seqlab.prepare)

    def make_texts(self) -> dict[str, list[TextPair]]:
        raise NotImplementedError

    def make_columns(
        self, splits: tuple[str, ...] = SPLITS
    ) -> dict[str, tuple[list[str], list[str]]]:
        """The sources and the targets of these splits (from :meth:`make_texts`; tasks that
        read large files override this to skip the pairs)."""
        return {
            split: ([s for s, _ in pairs], [t for _, t in pairs])
            for split, pairs in self.make_texts().items()
            if split in splits
        }

    def _fit_tokenizers(self, sources: list[str], targets: list[str]) -> None:
        if self.tokenization.shared_vocab:
            self.source_tokenizer = self.tokenization.build(sources + targets)
            self.target_tokenizer = self.source_tokenizer
        else:
            # sentencepiece learns outside Python's lock: both sides at once, in two threads
            # (each side learns the pieces it would learn alone)
            with ThreadPoolExecutor(2) as pool:
                source, target = pool.map(self.tokenization.build, (sources, targets))
            self.source_tokenizer, self.target_tokenizer = source, target

    def cache_key(self) -> str | None:
        """The key of this task's encoded data in seqlab.text.cache, or None when it
        is not cached (generated data). Tasks that read files override it."""
        return None

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        preset = (self.source_tokenizer, self.target_tokenizer, self.source_vocab)
        key = self.cache_key() if all(x is None for x in preset) else None
        cached = cache.load(key) if key else None
        if cached is not None:
            self._restore(cached)
            print(f"seqlab: encoded data read from the cache ({cache.cache_dir()})")
        else:
            self._encode()
            if sum(self.setup_seconds.values()) >= SETUP_REPORT_FROM:
                read, fit, encode = (
                    self.setup_seconds[k] for k in ("read", "tokenizers", "encode")
                )
                print(
                    f"seqlab: data ready in {read + fit + encode:.1f} s (reading {read:.1f} s, "
                    f"training tokenizers {fit:.1f} s, tokenizing and encoding {encode:.1f} s); "
                    f"`python -m seqlab.prepare` does this once, ahead of training"
                )
            path = cache.save(key, self._cache_entry()) if key else None
            if path:
                print(f"seqlab: encoded data cached in {path}")
        self._report_an_outlying_length_ratio()
        self._leave_out_long_training_pairs()

    def _report_an_outlying_length_ratio(self) -> None:
        """Say so when the largest target/source length ratio of the training pairs, which
        bounds every decoded output (:func:`seqlab.models.search.output_limits`), comes from a
        pair far off the others (more than 3 and twice the 99th percentile): often a
        misaligned line, and then a model that has not learnt to stop yet decodes that long."""
        train, ratio = self.splits.get("train"), self.length_ratio
        if train is None or ratio is None or len(train) == 0:
            return
        ratios = train.length_ratios()
        bulk = float(np.percentile(ratios, 99))
        if ratio <= max(OUTLYING_RATIO, 2 * bulk):
            return
        pair = int(np.argmax(ratios))
        print(
            f"seqlab: training pair {pair + 1:,} has a target {ratio:.1f}x as long as its source "
            f"({train.src_lengths[pair]} -> {train.tgt_lengths[pair]} tokens), where 99% of "
            f"the pairs are within {bulk:.1f}x; decoded outputs may run to {ratio:.1f}x their "
            f"source's length before they are cut. If that pair is a misaligned line, "
            f"fix the file; decoding.max_length=N bounds every output instead"
        )

    def _leave_out_long_training_pairs(self) -> None:
        """Keep the training pairs whose sides have at most max_train_len tokens, saying how
        many were left out (the cache keeps every pair: the bound is not an encoding option).
        The length ratio stays that of the whole training file."""
        train, bound = self.splits.get("train"), self.max_train_len
        if train is None or bound is None:
            return
        longer = np.maximum(train.src_lengths, train.tgt_lengths)
        kept = np.flatnonzero(longer <= bound)
        if len(kept) == len(train):
            return
        if len(kept) == 0:
            raise ConfigError(
                f"task.max_len={bound} leaves no training pair: every pair has a side longer "
                f"than {bound} tokens (the shortest has {int(longer.min())}). Raise "
                f"task.max_len, or set task.max_len=null to train on every pair."
            )
        left_out = len(train) - len(kept)
        print(
            f"seqlab: task.max_len={bound} leaves out {left_out:,} of {len(train):,} training "
            f"pairs ({100 * left_out / len(train):.1f}%) with a side longer than {bound} "
            f"token{'s' * (bound != 1)}; validation and test keep every pair"
        )
        self.splits["train"] = train.subset(kept)

    def _cache_entry(self) -> dict:
        """The encoded data as tensors and strings: vocabularies and raw lines are each one
        string, a newline between entries (no token or line holds one), because
        ``torch.load(weights_only=True)`` reads a list of a million strings slowly."""
        assert self.source_tokenizer and self.target_tokenizer
        assert self.source_vocab and self.target_vocab
        shared = self.source_tokenizer is self.target_tokenizer
        return {
            "tokenizers": [self.source_tokenizer.state(), self.target_tokenizer.state()],
            "shared": shared,
            "vocabs": [_joined(self.source_vocab.itos), _joined(self.target_vocab.itos)],
            "length_ratio": self.length_ratio,
            "splits": {
                split: [data.src_ids, data.src_offsets, data.tgt_ids, data.tgt_offsets]
                for split, data in self.splits.items()
            },
            "raw_text": {
                split: [_joined(column) for column in pair] for split, pair in self.raw_text.items()
            },
        }

    def _restore(self, entry: dict) -> None:
        source_state, target_state = entry["tokenizers"]
        self.source_tokenizer = tokenizer_from_state(source_state)
        self.target_tokenizer = (
            self.source_tokenizer if entry["shared"] else tokenizer_from_state(target_state)
        )
        source_vocab, target_vocab = entry["vocabs"]
        self.source_vocab = Vocab.from_list(_split(source_vocab))
        self.target_vocab = (
            self.source_vocab if entry["shared"] else Vocab.from_list(_split(target_vocab))
        )
        self.length_ratio = entry["length_ratio"]
        self.splits = {
            split: EncodedPairs((src, src_offsets), (tgt, tgt_offsets))
            for split, (src, src_offsets, tgt, tgt_offsets) in entry["splits"].items()
        }
        self.raw_text = {
            split: (_split(pair[0]), _split(pair[1])) for split, pair in entry["raw_text"].items()
        }

    def _encode(self) -> None:
        clock = time.perf_counter
        start = clock()
        texts = self.make_columns(self.needed_splits)
        read = clock() - start
        if self.source_tokenizer is None or self.target_tokenizer is None:
            self._fit_tokenizers(*texts["train"])
        fit = clock() - start - read
        assert self.source_tokenizer is not None and self.target_tokenizer is not None
        source = CorpusEncoder(self.source_tokenizer)
        shared = self.target_tokenizer is self.source_tokenizer
        target = source if shared else CorpusEncoder(self.target_tokenizer)
        total = sum(len(sources) + len(targets) for sources, targets in texts.values())
        with tqdm(
            total=total, unit=" texts", desc="tokenizing", disable=not self.show_progress
        ) as bar:
            tokenized = {
                split: (source.tokens(sources, bar.update), target.tokens(targets, bar.update))
                for split, (sources, targets) in texts.items()
            }
        if self.source_vocab is None or self.target_vocab is None:
            limits = (self.min_freq, self.max_vocab)
            train_source, train_target = tokenized["train"]
            if self.tokenization.shared_vocab:
                both = [(source, train_source), (target, train_target)]
                self.source_vocab = self.target_vocab = vocabulary(both, *limits)
            else:
                self.source_vocab = vocabulary([(source, train_source)], *limits)
                self.target_vocab = vocabulary([(target, train_target)], *limits)
        self.splits = {
            split: EncodedPairs(
                source.ids(source_tokens, self.source_vocab),
                target.ids(target_tokens, self.target_vocab),
            )
            for split, (source_tokens, target_tokens) in tokenized.items()
        }
        if self.length_ratio is None:
            ratios = self.splits["train"].length_ratios()
            self.length_ratio = float(ratios.max()) if len(ratios) else 2.0
        self.raw_text = {split: texts[split] for split in ("val", "test") if split in texts}
        encode = clock() - start - read - fit
        self.setup_seconds = {"read": read, "tokenizers": fit, "encode": encode}

    @property
    def spec(self) -> TaskSpec:
        if self.source_vocab is None or self.target_vocab is None or not self.splits:
            self.setup()
        assert self.source_vocab is not None and self.target_vocab is not None
        return TaskSpec(
            name=self.name,
            output=SEQ2SEQ,
            vocab_size=len(self.source_vocab),
            num_classes=len(self.target_vocab),
            solved_when=self.solved_when,
            source_vocab=self.source_vocab,
            target_vocab=self.target_vocab,
            source_tokenizer=self.source_tokenizer,
            target_tokenizer=self.target_tokenizer,
            raw_text=self.raw_text,
            length_ratio=self.length_ratio or 2.0,
        )

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        data = self.splits[split]
        tokens = self.batch_tokens if split == "train" else None
        return length_loader(
            data, data.src_lengths, self.batch_size, shuffle, self.data_seed, tokens
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
