"""Texts -> flat id arrays: one int32 array of every token's id, and offsets (text i is
ids[offsets[i]:offsets[i + 1]]), with no tensor, list or string per token.

Whitespace and word tokens are found a chunk at a time in array operations
(seqlab.tasks.parallel_tokenize, in worker threads for large corpora); the chunks' types
are merged by their keys, and each distinct type is mapped to its id once. Sentencepiece
encodes each distinct word of the texts once, and a text's pieces are its words' pieces (see
SentencePieceTokenizer.non_splitting_spaces); texts holding whitespace that the model does not
treat as a space are encoded whole.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from seqlab.tasks.parallel_tokenize import tokenize_chunks, tokenize_pair_chunks
from seqlab.tasks.segments import segment_positions
from seqlab.tasks.tokenizers import JOINER, SentencePieceTokenizer, Tokenizer
from seqlab.tasks.vector_tokenize import TokenizedChunk, TypeTable
from seqlab.tasks.vocab import UNK_ID, Vocab

Flat = tuple[Tensor, Tensor]  # ids (N,) int32, offsets (texts + 1,) int64


def encode_training_texts(
    sides: list[tuple[list[str], Tokenizer]], min_freq: int, max_vocab: int | None
) -> tuple[Vocab, list[Flat]]:
    """Tokenize the training texts of one or more sides once, and build their vocabulary:
    tokens get provisional ids (counted with one bincount), then are renumbered by the
    vocabulary. Returns the vocabulary and each side's (ids, offsets)."""
    types = _ProvisionalTypes()
    words, encoded = types.words, []
    for texts, tokenizer in sides:
        if isinstance(tokenizer, SentencePieceTokenizer):  # its own ids are provisional ids
            encoded.append(sentencepiece_ids(texts, tokenizer))
            words = tokenizer.pieces()
            continue
        encoded.append(_map_chunks(texts, tokenizer, types))
    return _vocabulary(words, encoded, min_freq, max_vocab)


def encode_training_pairs(
    raw: bytes, tokenizer: Tokenizer, shared: bool, min_freq: int, max_vocab: int | None
) -> tuple[tuple[Vocab, Vocab], tuple[Flat, Flat]] | None:
    """The training lines of a ``source<TAB>target`` file (its bytes, whole lines, the last
    ending with a newline), tokenized by ``tokenizer`` (whitespace or word, both sides)
    straight from the bytes, and the vocabularies (one for both sides when ``shared``), as
    :func:`encode_training_texts` gives them for the file's two columns. None where a chunk
    is not every line ``source<TAB>target`` with text on both sides and valid UTF-8: the
    caller reads the file line by line (its message, or the blank lines it skips)."""
    source_types = _ProvisionalTypes()
    target_types = source_types if shared else _ProvisionalTypes()
    sides = (source_types, target_types)
    parts: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    lengths: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    for chunks in tokenize_pair_chunks(raw, tokenizer, (sides[0].known_ids, sides[1].known_ids)):
        if chunks is None:
            return None
        for side, (chunk, known) in enumerate(chunks):
            parts[side].append(sides[side].token_ids(chunk, known))
            lengths[side].append(chunk.lengths)
    source, target = _flat(parts[0], lengths[0]), _flat(parts[1], lengths[1])
    limits = (min_freq, max_vocab)
    if shared:
        vocab, (source, target) = _vocabulary(source_types.words, [source, target], *limits)
        return (vocab, vocab), (source, target)
    source_vocab, (source,) = _vocabulary(source_types.words, [source], *limits)
    target_vocab, (target,) = _vocabulary(target_types.words, [target], *limits)
    return (source_vocab, target_vocab), (source, target)


def _vocabulary(
    words: list[str], encoded: list[Flat], min_freq: int, max_vocab: int | None
) -> tuple[Vocab, list[Flat]]:
    """The vocabulary of texts encoded in provisional ids (``words``: provisional id -> type),
    and the texts in its ids."""
    counts = np.zeros(len(words), dtype=np.int64)
    for flat, _ in encoded:
        counts += np.bincount(flat.numpy(), minlength=len(words))
    merged = None
    if JOINER in "".join(words) and len(set(words)) != len(words):
        # a type under two keys: a joiner written in the text itself
        index: dict[str, int] = {}
        merged = np.array([index.setdefault(w, len(index)) for w in words], dtype=np.int64)
        words, counts = list(index), np.bincount(merged, weights=counts).astype(np.int64)
    vocab, renumber = Vocab.from_count_array(words, counts, min_freq, max_vocab)
    table = renumber if merged is None else renumber[merged]
    return vocab, [
        (torch.from_numpy(table[flat.numpy()]) if len(flat) else flat, offsets)
        for flat, offsets in encoded
    ]


def encode_texts(texts: list[str], tokenizer: Tokenizer, vocab: Vocab) -> Flat:
    """Texts -> (ids (N,) int32, offsets (len + 1,)) in the vocabulary's ids."""
    if isinstance(tokenizer, SentencePieceTokenizer):
        flat, offsets = sentencepiece_ids(texts, tokenizer)
        pieces = tokenizer.pieces()
        table = torch.tensor([vocab.stoi.get(p, UNK_ID) for p in pieces], dtype=torch.int32)
        return (table[flat.long()] if len(flat) else flat), offsets
    stoi = vocab.stoi
    return _map_chunks(
        texts, tokenizer, ChunkTypes(lambda names: [stoi.get(name, UNK_ID) for name in names])
    )


def _flat(parts: list[np.ndarray], lengths: list[np.ndarray]) -> Flat:
    ids = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
    offsets = np.zeros(sum(map(len, lengths)) + 1, dtype=np.int64)
    if len(offsets) > 1:
        np.cumsum(np.concatenate(lengths), out=offsets[1:])
    return torch.from_numpy(ids.astype(np.int32, copy=False)), torch.from_numpy(offsets)


class ChunkTypes:
    """The ids of the chunks' token types: ``name_ids`` gives the ids of a batch of type
    strings, and is asked once per distinct type, when a chunk first holds it. The types are
    recognised by their keys (TypeTable), so no chunk's types become strings twice.

    :meth:`known_ids` may run in worker threads, beside the one thread that calls
    :meth:`local_ids`: the workers find the types seen before, and the caller numbers only
    the others."""

    def __init__(self, name_ids: Callable[[list[str]], list[int]]) -> None:
        self.name_ids = name_ids
        self.table = TypeTable()
        self.key_ids = np.zeros(0, dtype=np.int64)  # table id -> id

    def known_ids(self, chunk: TokenizedChunk) -> np.ndarray:
        """The id of each local type of the chunk that has one already, -1 for the others
        (int64). Reads only: safe in any thread while :meth:`local_ids` runs in another."""
        key_ids = self.key_ids  # before the table: its newer ids count as not known yet
        keys = self.table.lookup(chunk.first, chunk.second)
        known = (keys >= 0) & (keys < len(key_ids))
        ids = np.full(len(keys), -1, dtype=np.int64)
        ids[known] = key_ids[keys[known]]
        return ids

    def local_ids(self, chunk: TokenizedChunk, known: np.ndarray | None = None) -> np.ndarray:
        """The id of each local type of the chunk (int64), given :meth:`known_ids`."""
        ids = self.known_ids(chunk) if known is None else known.copy()
        todo = np.flatnonzero(ids < 0)
        if len(todo):
            keys, examples = self.table.add(chunk.first[todo], chunk.second[todo])
            if len(examples):
                names = chunk.type_strings(todo[examples])
                new = np.array(self.name_ids(names), dtype=np.int64)
                self.key_ids = np.concatenate([self.key_ids, new])
            ids[todo] = self.key_ids[keys]
        return ids

    def token_ids(self, chunk: TokenizedChunk, known: np.ndarray | None = None) -> np.ndarray:
        """The id of each token of the chunk (int32), given :meth:`known_ids`."""
        return self.local_ids(chunk, known).astype(np.int32)[chunk.ids]


class _ProvisionalTypes(ChunkTypes):
    """Chunk types numbered in the order they are first merged (provisional ids), with the
    type of each id in ``words``."""

    def __init__(self) -> None:
        super().__init__(self._provisional)
        self.words: list[str] = []

    def _provisional(self, names: list[str]) -> list[int]:
        self.words.extend(names)
        return list(range(len(self.words) - len(names), len(self.words)))


def _map_chunks(texts: list[str], tokenizer: Tokenizer, types: ChunkTypes) -> Flat:
    """Texts tokenized a chunk at a time, their tokens numbered by ``types``."""
    parts, lengths = [], []
    for chunk, known in tokenize_chunks(texts, tokenizer, look_up=types.known_ids):
        parts.append(types.token_ids(chunk, known))
        lengths.append(chunk.lengths)
    return _flat(parts, lengths)


class _WordPieces:
    """Sentencepiece ids of distinct words, each word encoded once: word i's pieces are
    ``pieces[starts[i] : starts[i] + counts[i]]``."""

    def __init__(self, tokenizer: SentencePieceTokenizer) -> None:
        self.tokenizer = tokenizer
        self.pieces, self.starts, self.counts = array("i"), array("q"), array("q")

    def add(self, words: list[str]) -> list[int]:
        """Encode these new (prepared) words; their indices."""
        first = len(self.counts)
        pieces, counts = self.tokenizer.encode_words(words)
        self.starts.frombytes((np.cumsum(counts) - counts + len(self.pieces)).tobytes())
        self.pieces.frombytes(pieces.tobytes())
        self.counts.frombytes(counts.tobytes())
        return list(range(first, len(self.counts)))

    def expand(self, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pieces of a sequence of word indices, flat, and the pieces of each word."""
        word_counts = np.frombuffer(self.counts, dtype=np.int64)[words]
        starts = np.frombuffer(self.starts, dtype=np.int64)[words]
        pieces = np.frombuffer(self.pieces, dtype=np.int32)
        return pieces[segment_positions(starts, word_counts)], word_counts


def sentencepiece_ids(texts: list[str], tokenizer: SentencePieceTokenizer) -> Flat:
    """Sentencepiece's own ids of the texts' pieces, flat, with offsets."""
    words = _WordPieces(tokenizer)
    types = ChunkTypes(words.add)
    splitter = Tokenizer(tokenizer.lowercase)
    parts, lengths = [], []
    done = 0
    chunks = tokenize_chunks(
        texts, splitter, flag_chars=tokenizer.non_splitting_spaces, look_up=types.known_ids
    )
    for chunk, known in chunks:
        pieces, word_counts = words.expand(types.token_ids(chunk, known))
        token_ends = np.cumsum(chunk.lengths)
        piece_ends = np.concatenate([[0], np.cumsum(word_counts)])[token_ends]
        text_lengths = np.diff(piece_ends, prepend=0)
        if len(chunk.flagged):  # encoded whole: the model joins words across these spaces
            whole = [texts[done + i] for i in chunk.flagged.tolist()]
            segments, previous = [], 0
            for position, encoded in zip(
                chunk.flagged.tolist(), tokenizer.encode_all_ids(whole), strict=True
            ):
                start = piece_ends[position] - text_lengths[position]
                segments += [pieces[previous:start], np.array(encoded, dtype=np.int32)]
                previous = piece_ends[position]
                text_lengths[position] = len(encoded)
            pieces = np.concatenate([*segments, pieces[previous:]])
        parts.append(pieces)
        lengths.append(text_lengths)
        done += len(chunk.lengths)
    return _flat(parts, lengths)
