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

import itertools
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from seqlab.config import require_at_least, require_choice
from seqlab.errors import ConfigError
from seqlab.spec import SEQ2SEQ, TaskSpec
from seqlab.tasks import encoded_cache
from seqlab.tasks.batching import Batch, length_loader
from seqlab.tasks.parallel_tokenize import tokenize_chunks
from seqlab.tasks.tokenizers import (
    SENTENCEPIECE_MODELS,
    TOKENIZERS,
    SentencePieceTokenizer,
    Tokenizer,
    build_tokenizer,
    tokenizer_from_state,
)
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


CHUNK = 10_000  # lines a sentencepiece call encodes at a time: bounded memory


def _chunks(texts: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(texts), CHUNK):
        yield texts[start : start + CHUNK]


def encode_training_texts(
    sides: list[tuple[list[str], Tokenizer]], min_freq: int, max_vocab: int | None
) -> tuple[Vocab, list[tuple[Tensor, Tensor]]]:
    """Tokenize the training texts of one or more sides once, and build their vocabulary:
    tokens get provisional ids in order of appearance (counted with one bincount), then
    are renumbered by the vocabulary. Returns the vocabulary and each side's (ids, offsets)."""
    provisional: defaultdict[str, int] = defaultdict(itertools.count().__next__)
    encoded = []
    for texts, tokenizer in sides:
        if isinstance(tokenizer, SentencePieceTokenizer):  # its own ids are provisional ids
            encoded.append(_sentencepiece_ids(texts, tokenizer))
            continue
        encoded.append(_map_chunks(texts, tokenizer, provisional.__getitem__))
    tokenizers = {id(tokenizer): tokenizer for _, tokenizer in sides}
    only = next(iter(tokenizers.values()))
    if len(tokenizers) == 1 and isinstance(only, SentencePieceTokenizer):
        words = only.pieces()
    else:
        words = list(provisional)  # in provisional-id order
    counts = torch.zeros(len(words), dtype=torch.int64)
    for flat, _ in encoded:
        counts += torch.bincount(flat.long(), minlength=len(words))
    vocab = Vocab.from_counts(
        Counter(dict(zip(words, counts.tolist(), strict=True))), min_freq, max_vocab
    )
    renumber = torch.tensor([vocab.stoi.get(w, UNK_ID) for w in words], dtype=torch.int32)
    return vocab, [
        (renumber[flat.long()] if len(flat) else flat, offsets) for flat, offsets in encoded
    ]


def _as_tensors(ids: array, lengths: array) -> tuple[Tensor, Tensor]:
    offsets = torch.zeros(len(lengths) + 1, dtype=torch.int64)
    if lengths:
        torch.cumsum(torch.frombuffer(lengths, dtype=torch.int64), 0, out=offsets[1:])
    flat = (
        torch.frombuffer(ids, dtype=torch.int32).clone()
        if ids
        else torch.zeros(0, dtype=torch.int32)
    )
    return flat, offsets


def encode_texts(texts: list[str], tokenizer: Tokenizer, vocab: Vocab) -> tuple[Tensor, Tensor]:
    """Texts -> (ids (N,) int32, offsets (len + 1,)): text i is ids[offsets[i]:offsets[i+1]].
    Tokenized and encoded a chunk at a time, into flat arrays (no tensor or list per text)."""
    if isinstance(tokenizer, SentencePieceTokenizer):
        flat, offsets = _sentencepiece_ids(texts, tokenizer)
        pieces = tokenizer.pieces()
        table = torch.tensor([vocab.stoi.get(p, UNK_ID) for p in pieces], dtype=torch.int32)
        return (table[flat.long()] if len(flat) else flat), offsets
    stoi = vocab.stoi
    return _map_chunks(texts, tokenizer, lambda token: stoi.get(token, UNK_ID))


def _map_chunks(
    texts: list[str], tokenizer: Tokenizer, type_id: Callable[[str], int]
) -> tuple[Tensor, Tensor]:
    """Texts tokenized a chunk at a time (in worker processes for large corpora), each
    chunk's local ids mapped to ``type_id`` of their token types; flat ids and offsets."""
    parts, lengths = [], array("q")
    for local_ids, chunk_lengths, types in tokenize_chunks(texts, tokenizer):
        if local_ids:
            table = torch.tensor([type_id(t) for t in types], dtype=torch.int32)
            parts.append(table[torch.frombuffer(local_ids, dtype=torch.int32).long()])
        lengths.extend(chunk_lengths)
    _, offsets = _as_tensors(array("i"), lengths)
    flat = torch.cat(parts) if parts else torch.zeros(0, dtype=torch.int32)
    return flat, offsets


def _sentencepiece_ids(
    texts: list[str], tokenizer: SentencePieceTokenizer
) -> tuple[Tensor, Tensor]:
    """Sentencepiece's own ids of the texts' pieces, flat, with offsets."""
    ids, lengths = array("i"), array("q")
    for chunk in _chunks(texts):
        for pieces in tokenizer.encode_all_ids(chunk):
            ids.extend(pieces)
            lengths.append(len(pieces))
    return _as_tensors(ids, lengths)


def _padded(ids: Tensor, offsets: Tensor, index: Tensor, width: int) -> Tensor:
    """Rows ``index`` of a flat id array, padded with PAD_ID to ``width`` (B, width) long."""
    starts, lengths = offsets[index], offsets[index + 1] - offsets[index]
    steps = torch.arange(width)
    real = steps[None] < lengths[:, None]
    positions = (starts[:, None] + steps[None]).clamp(max=max(len(ids) - 1, 0))
    return torch.where(real, ids[positions].long(), PAD_ID)


class EncodedPairs(Dataset):
    """Encoded pairs in flat id arrays; indexing with a list of positions returns one padded
    batch, built with a few tensor operations."""

    def __init__(self, source: tuple[Tensor, Tensor], target: tuple[Tensor, Tensor]) -> None:
        self.src_ids, self.src_offsets = source
        self.tgt_ids, self.tgt_offsets = target
        self.src_lengths = (self.src_offsets[1:] - self.src_offsets[:-1]).tolist()
        self.tgt_lengths_t = self.tgt_offsets[1:] - self.tgt_offsets[:-1]

    def __len__(self) -> int:
        return len(self.src_lengths)

    def __getitem__(self, index: list[int]) -> Batch:
        rows = torch.as_tensor(index)
        src_lengths = self.src_offsets[rows + 1] - self.src_offsets[rows]
        tgt_lengths = self.tgt_lengths_t[rows]
        longest = int(tgt_lengths.max())
        src = _padded(self.src_ids, self.src_offsets, rows, int(src_lengths.max()))
        target = _padded(self.tgt_ids, self.tgt_offsets, rows, longest + 1)
        tgt_in = torch.cat([torch.full((len(rows), 1), BOS_ID), target[:, :-1]], 1)
        tgt_out = target.scatter(1, tgt_lengths[:, None], EOS_ID)
        return {
            "src": src,
            "src_lengths": src_lengths,
            "tgt_in": tgt_in,
            "tgt_out": tgt_out,
            "index": rows,
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

    def cache_key(self) -> str | None:
        """The key of this task's encoded data in seqlab.tasks.encoded_cache, or None when it
        is not cached (generated data). Tasks that read files override it."""
        return None

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        preset = (self.source_tokenizer, self.target_tokenizer, self.source_vocab)
        key = self.cache_key() if all(x is None for x in preset) else None
        cached = encoded_cache.load(key) if key else None
        if cached is not None:
            self._restore(cached)
            print(f"seqlab: encoded data read from the cache ({encoded_cache.cache_dir()})")
            return
        self._encode()
        if key:
            path = encoded_cache.save(key, self._cache_entry())
            if path:
                print(f"seqlab: encoded data cached in {path}")

    def _cache_entry(self) -> dict:
        assert self.source_tokenizer and self.target_tokenizer
        assert self.source_vocab and self.target_vocab
        shared = self.source_tokenizer is self.target_tokenizer
        return {
            "tokenizers": [self.source_tokenizer.state(), self.target_tokenizer.state()],
            "shared": shared,
            "vocabs": [self.source_vocab.to_list(), self.target_vocab.to_list()],
            "length_ratio": self.length_ratio,
            "splits": {
                split: [data.src_ids, data.src_offsets, data.tgt_ids, data.tgt_offsets]
                for split, data in self.splits.items()
            },
            "raw_text": {split: list(map(list, pair)) for split, pair in self.raw_text.items()},
        }

    def _restore(self, entry: dict) -> None:
        source_state, target_state = entry["tokenizers"]
        self.source_tokenizer = tokenizer_from_state(source_state)
        self.target_tokenizer = (
            self.source_tokenizer if entry["shared"] else tokenizer_from_state(target_state)
        )
        source_vocab, target_vocab = entry["vocabs"]
        self.source_vocab = Vocab.from_list(source_vocab)
        self.target_vocab = self.source_vocab if entry["shared"] else Vocab.from_list(target_vocab)
        self.length_ratio = entry["length_ratio"]
        self.splits = {
            split: EncodedPairs((src, src_offsets), (tgt, tgt_offsets))
            for split, (src, src_offsets, tgt, tgt_offsets) in entry["splits"].items()
        }
        self.raw_text = {split: (pair[0], pair[1]) for split, pair in entry["raw_text"].items()}

    def _encode(self) -> None:
        texts = {
            split: ([s for s, _ in pairs], [t for _, t in pairs])
            for split, pairs in self.make_texts().items()
        }
        sources, targets = texts["train"]
        if self.source_tokenizer is None or self.target_tokenizer is None:
            self._fit_tokenizers(sources, targets)
        source_tokenizer, target_tokenizer = self.source_tokenizer, self.target_tokenizer
        assert source_tokenizer is not None and target_tokenizer is not None
        self.splits = {}
        if self.source_vocab is None or self.target_vocab is None:
            source, target = (sources, source_tokenizer), (targets, target_tokenizer)
            limits = (self.min_freq, self.max_vocab)
            if self.tokenization.shared_vocab:
                vocab, (src, tgt) = encode_training_texts([source, target], *limits)
                self.source_vocab = self.target_vocab = vocab
            else:
                self.source_vocab, (src,) = encode_training_texts([source], *limits)
                self.target_vocab, (tgt,) = encode_training_texts([target], *limits)
            self.splits["train"] = EncodedPairs(src, tgt)
        for split, (src_texts, tgt_texts) in texts.items():
            if split not in self.splits:
                self.splits[split] = EncodedPairs(
                    encode_texts(src_texts, source_tokenizer, self.source_vocab),
                    encode_texts(tgt_texts, target_tokenizer, self.target_vocab),
                )
        if self.length_ratio is None:
            train = self.splits["train"]
            src_lengths = torch.tensor(train.src_lengths, dtype=torch.float64)
            ratios = train.tgt_lengths_t / src_lengths.clamp(min=1)
            self.length_ratio = float(ratios.max()) if len(ratios) else 2.0
        self.raw_text = {split: texts[split] for split in ("val", "test")}

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
