"""Shared data pipeline of the sequence-to-sequence tasks (translation, TSV, seq2seq copy).

A task provides (source text, target text) pairs per split, as they are in its data; this
module tokenizes them once (seqlab.tasks.tokenizers; tokenizers and vocabularies come from
the training split), encodes them into flat id arrays, and batches by length: sentences of
similar source length go together (little padding, no packing), batch order is shuffled each
epoch. The raw text of the validation and test splits is kept: BLEU is scored against it.

Batch: src (B, S) long, src_lengths (B,), tgt_in (B, T) = <bos> y1..yn, tgt_out (B, T) =
y1..yn <eos>, padded with 0; index (B,) the pairs' positions in their split.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from seqlab.config import require_at_least, require_choice
from seqlab.errors import ConfigError
from seqlab.spec import SEQ2SEQ, TaskSpec
from seqlab.tasks.batching import Batch, length_loader
from seqlab.tasks.tokenizers import SENTENCEPIECE_MODELS, TOKENIZERS, Tokenizer, build_tokenizer
from seqlab.tasks.vocab import BOS_ID, EOS_ID, PAD_ID, UNK_ID, Vocab

TextPair = tuple[str, str]


def check_vocabulary_and_batching(batch_tokens: int | None, max_vocab: int | None) -> None:
    """Shared by the parallel-text tasks: optional sizes must be >= 1 when set."""
    if batch_tokens is not None and batch_tokens < 1:
        raise ConfigError(f"task.batch_tokens must be >= 1 or null, got {batch_tokens}")
    if max_vocab is not None and max_vocab < 1:
        raise ConfigError(f"task.max_vocab must be >= 1 or null, got {max_vocab}")


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

    def build(self, texts: list[str]) -> Tokenizer:
        return build_tokenizer(
            self.tokenizer, texts, self.lowercase, self.vocab_size, self.sentencepiece_model
        )


def _flatten(sequences: list[list[str]], vocab: Vocab) -> tuple[Tensor, Tensor]:
    """Token lists -> (ids (N,), offsets (len + 1,)): sentence i is ids[offsets[i]:offsets[i+1]]."""
    lookup = vocab.stoi.get
    ids = torch.tensor(
        [lookup(w, UNK_ID) for w in chain.from_iterable(sequences)], dtype=torch.int32
    )
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.int64)
    offsets = torch.zeros(len(sequences) + 1, dtype=torch.int64)
    torch.cumsum(lengths, 0, out=offsets[1:])
    return ids, offsets


class EncodedPairs(Dataset):
    """Encoded pairs in flat id arrays; indexing with a list of positions returns one padded
    batch."""

    def __init__(
        self, sources: list[list[str]], targets: list[list[str]], source: Vocab, target: Vocab
    ) -> None:
        self.src_ids, self.src_offsets = _flatten(sources, source)
        self.tgt_ids, self.tgt_offsets = _flatten(targets, target)
        self.src_lengths = (self.src_offsets[1:] - self.src_offsets[:-1]).tolist()
        self.tgt_lengths = (self.tgt_offsets[1:] - self.tgt_offsets[:-1]).tolist()

    def __len__(self) -> int:
        return len(self.src_lengths)

    def source(self, i: int) -> Tensor:
        return self.src_ids[self.src_offsets[i] : self.src_offsets[i + 1]]

    def target(self, i: int) -> Tensor:
        return self.tgt_ids[self.tgt_offsets[i] : self.tgt_offsets[i + 1]]

    def __getitem__(self, index: list[int]) -> Batch:
        batch_size = len(index)
        s_max = max(self.src_lengths[i] for i in index)
        t_max = max(self.tgt_lengths[i] for i in index) + 1
        src = torch.full((batch_size, s_max), PAD_ID, dtype=torch.long)
        tgt_in = torch.full((batch_size, t_max), PAD_ID, dtype=torch.long)
        tgt_out = torch.full((batch_size, t_max), PAD_ID, dtype=torch.long)
        for row, i in enumerate(index):
            s, t = self.source(i), self.target(i)
            src[row, : len(s)] = s
            tgt_in[row, 0] = BOS_ID
            tgt_in[row, 1 : len(t) + 1] = t
            tgt_out[row, : len(t)] = t
            tgt_out[row, len(t)] = EOS_ID
        return {
            "src": src,
            "src_lengths": torch.tensor([self.src_lengths[i] for i in index]),
            "tgt_in": tgt_in,
            "tgt_out": tgt_out,
            "index": torch.tensor(index),
        }


class Seq2SeqDataModule(L.LightningDataModule):
    """Base class: subclasses implement :meth:`make_texts` returning train/val/test pairs.

    name: the task's name in the spec; batch_size: sentences per batch (evaluation, and
    training unless batch_tokens); min_freq / max_vocab: vocabulary from the training pairs;
    batch_tokens: training batches of about this many source tokens instead;
    solved_when: the spec's stop criterion, if the task has one; tokenization: see
    :class:`Tokenization`. Tokenizers, vocabularies and the length ratio set before
    ``setup()`` (from a checkpoint) are used as they are.
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
        self.splits: dict[str, EncodedPairs] = {}
        self.raw_text: dict[str, tuple[list[str], list[str]]] = {}
        self.length_ratio: float | None = None  # measured on the training data in setup()
        self.source_vocab: Vocab | None = None
        self.target_vocab: Vocab | None = None
        self.source_tokenizer: Tokenizer | None = None
        self.target_tokenizer: Tokenizer | None = None

    def make_texts(self) -> dict[str, list[TextPair]]:
        raise NotImplementedError

    def _fit_tokenizers(self, sources: list[str], targets: list[str]) -> None:
        if self.tokenization.shared_vocab:
            self.source_tokenizer = self.tokenization.build(sources + targets)
            self.target_tokenizer = self.source_tokenizer
        else:
            self.source_tokenizer = self.tokenization.build(sources)
            self.target_tokenizer = self.tokenization.build(targets)

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        texts = self.make_texts()
        train_sources = [s for s, _ in texts["train"]]
        train_targets = [t for _, t in texts["train"]]
        if self.source_tokenizer is None or self.target_tokenizer is None:
            self._fit_tokenizers(train_sources, train_targets)
        assert self.source_tokenizer is not None and self.target_tokenizer is not None
        tokens = {
            split: (
                self.source_tokenizer.encode_all([s for s, _ in pairs]),
                self.target_tokenizer.encode_all([t for _, t in pairs]),
            )
            for split, pairs in texts.items()
        }
        sources, targets = tokens["train"]
        if self.source_vocab is None or self.target_vocab is None:
            if self.tokenization.shared_vocab:
                vocab = Vocab.build(chain(sources, targets), self.min_freq, self.max_vocab)
                self.source_vocab = self.target_vocab = vocab
            else:
                self.source_vocab = Vocab.build(sources, self.min_freq, self.max_vocab)
                self.target_vocab = Vocab.build(targets, self.min_freq, self.max_vocab)
        if self.length_ratio is None:
            self.length_ratio = max(
                (len(t) / len(s) for s, t in zip(sources, targets, strict=True) if s),
                default=2.0,
            )
        self.splits = {
            split: EncodedPairs(src, tgt, self.source_vocab, self.target_vocab)
            for split, (src, tgt) in tokens.items()
        }
        self.raw_text = {
            split: ([s for s, _ in texts[split]], [t for _, t in texts[split]])
            for split in ("val", "test")
        }

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
