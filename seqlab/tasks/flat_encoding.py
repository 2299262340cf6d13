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

from seqlab.tasks.parallel_tokenize import tokenize_chunks
from seqlab.tasks.segments import segment_positions
from seqlab.tasks.tokenizers import SentencePieceTokenizer, Tokenizer
from seqlab.tasks.vector_tokenize import TokenizedChunk, TypeTable
from seqlab.tasks.vocab import UNK_ID, Vocab

Flat = tuple[Tensor, Tensor]  # ids (N,) int32, offsets (texts + 1,) int64


def encode_training_texts(
    sides: list[tuple[list[str], Tokenizer]], min_freq: int, max_vocab: int | None
) -> tuple[Vocab, list[Flat]]:
    """Tokenize the training texts of one or more sides once, and build their vocabulary:
    tokens get provisional ids (counted with one bincount), then are renumbered by the
    vocabulary. Returns the vocabulary and each side's (ids, offsets)."""
    words: list[str] = []  # provisional id -> type

    def provisional(names: list[str]) -> list[int]:
        words.extend(names)
        return list(range(len(words) - len(names), len(words)))

    types = ChunkTypes(provisional)
    encoded = []
    for texts, tokenizer in sides:
        if isinstance(tokenizer, SentencePieceTokenizer):  # its own ids are provisional ids
            encoded.append(sentencepiece_ids(texts, tokenizer))
            words = tokenizer.pieces()
            continue
        encoded.append(_map_chunks(texts, tokenizer, types))
    counts = np.zeros(len(words), dtype=np.int64)
    for flat, _ in encoded:
        counts += np.bincount(flat.numpy(), minlength=len(words))
    merged = None
    if len(set(words)) != len(words):  # a type under two keys (a joiner in the text itself)
        index: dict[str, int] = {}
        merged = np.array([index.setdefault(w, len(index)) for w in words], dtype=np.int64)
        words, counts = list(index), np.bincount(merged, weights=counts).astype(np.int64)
    vocab, renumber = Vocab.from_count_array(words, counts, min_freq, max_vocab)
    table = torch.from_numpy(renumber if merged is None else renumber[merged])
    return vocab, [
        (table[flat.long()] if len(flat) else flat, offsets) for flat, offsets in encoded
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
    recognised by their keys (TypeTable), so no chunk's types become strings twice."""

    def __init__(self, name_ids: Callable[[list[str]], list[int]]) -> None:
        self.name_ids = name_ids
        self.table = TypeTable()
        self.key_ids = np.zeros(0, dtype=np.int64)

    def local_ids(self, chunk: TokenizedChunk) -> np.ndarray:
        """The id of each local type of the chunk (int64)."""
        keys, examples = self.table.add(chunk.first, chunk.second)
        if len(examples):
            ids = np.array(self.name_ids(chunk.type_strings(examples)), dtype=np.int64)
            self.key_ids = np.concatenate([self.key_ids, ids])
        return self.key_ids[keys]


def _map_chunks(texts: list[str], tokenizer: Tokenizer, types: ChunkTypes) -> Flat:
    """Texts tokenized a chunk at a time, their tokens numbered by ``types``."""
    parts, lengths = [], []
    for chunk in tokenize_chunks(texts, tokenizer):
        parts.append(types.local_ids(chunk).astype(np.int32)[chunk.ids])
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
    for chunk in tokenize_chunks(texts, splitter, flag_chars=tokenizer.non_splitting_spaces):
        pieces, word_counts = words.expand(types.local_ids(chunk)[chunk.ids])
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
