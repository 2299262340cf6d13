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

import functools
from array import array
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from seqlab.tasks import kernels
from seqlab.tasks.parallel_tokenize import in_order, tokenize_chunks, tokenize_pair_chunks
from seqlab.tasks.segments import segment_positions
from seqlab.tasks.tokenizers import JOINER, SentencePieceTokenizer, Tokenizer
from seqlab.tasks.vector_tokenize import TokenizedChunk, TypeTable
from seqlab.tasks.vocab import SPECIALS, UNK_ID, Vocab

Flat = tuple[Tensor, Tensor]  # ids (N,) int32, offsets (texts + 1,) int64
EXPAND_WORDS = 1 << 20
JOIN_IN_THREADS_FROM = 1 << 22  # tokens: below this, one thread is as quick


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


@dataclass
class PairWords:
    """Training pairs tokenized into words, in provisional ids: each side's ids (a chunk of
    lines at a time: ``parts``) and its texts' offsets into them, and the types that
    numbered them per side (one for both sides when ``shared``)."""

    types: tuple[_ProvisionalTypes, _ProvisionalTypes]
    parts: tuple[list[np.ndarray], list[np.ndarray]]
    offsets: tuple[Tensor, Tensor]
    shared: bool

    @property
    def words(self) -> tuple[list[str], list[str]]:
        """The word of each provisional id, per side."""
        return self.types[0].words, self.types[1].words

    @property
    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        """The tokens of each provisional id (int64), per side."""
        return self.types[0].counts, self.types[1].counts


def tokenize_training_pairs(raw: bytes, tokenizer: Tokenizer, shared: bool) -> PairWords | None:
    """The training lines of a ``source<TAB>target`` file (its bytes, whole lines, the last
    ending with a newline), tokenized by ``tokenizer`` (whitespace or word, both sides)
    straight from the bytes, in provisional ids shared by both sides when ``shared``. None
    where a chunk is not every line ``source<TAB>target`` with text on both sides and valid
    UTF-8: the caller reads the file line by line (its message, or the blank lines it
    skips)."""
    source_types = _ProvisionalTypes()
    target_types = source_types if shared else _ProvisionalTypes()
    sides = (source_types, target_types)
    parts: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    lengths: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    for chunks in tokenize_pair_chunks(raw, tokenizer, (sides[0].known_ids, sides[1].known_ids)):
        if chunks is None:
            return None
        for side, (chunk, known) in enumerate(chunks):
            local = sides[side].local_ids(chunk, known)
            sides[side].count(local, chunk.type_counts())
            parts[side].append(local.astype(np.int32)[chunk.ids])
            lengths[side].append(chunk.lengths)
    offsets = _offsets(lengths[0]), _offsets(lengths[1])
    return PairWords((source_types, target_types), parts, offsets, shared)


Vocabularies = tuple[tuple[Vocab, Vocab], tuple[Flat, Flat]]


def word_vocabularies(
    pairs: PairWords, min_freq: int, max_vocab: int | None
) -> tuple[Vocabularies, tuple[VocabularyKeys, VocabularyKeys]]:
    """The vocabularies of the pairs' words (one for both sides when shared), and each
    side's (ids, offsets) in its vocabulary's ids, as :func:`encode_training_texts` gives
    them for the file's two columns; and each side's :class:`VocabularyKeys`, which encode
    other texts of the same tokenizer in the vocabulary."""
    limits = (min_freq, max_vocab)
    numbered = [  # each vocabulary once: one for both sides when shared
        _vocabulary_ids(pairs.words[side], pairs.counts[side], *limits)
        for side in ((0,) if pairs.shared else (0, 1))
    ]
    both = numbered * 2 if pairs.shared else numbered
    flats = tuple(
        (_joined(parts, table), offsets)
        for (_, table), parts, offsets in zip(both, pairs.parts, pairs.offsets, strict=True)
    )
    keys = tuple(
        VocabularyKeys(types, table, vocab)
        for (vocab, table), types in zip(both, pairs.types, strict=True)
    )
    return ((both[0][0], both[1][0]), (flats[0], flats[1])), (keys[0], keys[1])


def encode_training_pairs(
    raw: bytes, tokenizer: Tokenizer, shared: bool, min_freq: int, max_vocab: int | None
) -> Vocabularies | None:
    """:func:`tokenize_training_pairs`, then :func:`word_vocabularies` (None where the bytes
    are declined)."""
    pairs = tokenize_training_pairs(raw, tokenizer, shared)
    return None if pairs is None else word_vocabularies(pairs, min_freq, max_vocab)[0]


def piece_vocabularies(
    pairs: PairWords,
    tokenizers: tuple[SentencePieceTokenizer, SentencePieceTokenizer],
    min_freq: int,
    max_vocab: int | None,
) -> Vocabularies:
    """The pairs' words (whitespace tokens, prepared as ``tokenizers`` prepare text) in
    sentencepiece pieces, each distinct word encoded once, and the vocabularies of the pieces,
    as :func:`encode_training_texts` gives them for the file's two columns. The texts must
    hold none of the tokenizers' ``non_splitting_spaces`` (where the pieces of a text are
    not its words' pieces one after another). A piece's count is the sum of its words'
    counts, so the vocabulary comes before the texts are expanded into pieces, which are
    then written in its ids."""
    limits = (min_freq, max_vocab)
    models = []  # each vocabulary once: one for both sides when shared
    for side in (0,) if pairs.shared else (0, 1):
        pieces = _WordPieces(tokenizers[side])
        pieces.add(pairs.words[side])
        counts = pieces.piece_counts(pairs.counts[side])
        models.append((*_vocabulary_ids(tokenizers[side].pieces(), counts, *limits), pieces))
    both = models * 2 if pairs.shared else models
    jobs = (
        ((_joined(parts), offsets), pieces, table)
        for (_, table, pieces), parts, offsets in zip(both, pairs.parts, pairs.offsets, strict=True)
    )
    # the compiled expansion runs outside Python's lock: the two sides at once
    flats = list(in_order(_pieces_of_words, jobs, parallel=kernels.compiled is not None))
    return (both[0][0], both[1][0]), (flats[0], flats[1])


def _pieces_of_words(flat: Flat, pieces: _WordPieces, table: np.ndarray) -> Flat:
    """Texts in word indices of ``pieces`` -> the same texts in vocabulary ids (``table``:
    sentencepiece id -> vocabulary id)."""
    ids, offsets = _expand_texts(flat[0].numpy(), flat[1].numpy(), pieces, table)
    return torch.from_numpy(ids), torch.from_numpy(offsets)


def _expand_texts(
    words: np.ndarray, offsets: np.ndarray, pieces: _WordPieces, table: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Texts in word indices of ``pieces`` (flat, with offsets) -> their pieces (int32), each
    written as ``table`` (sentencepiece id -> id, int32) gives it, or as sentencepiece's own
    id without one, and the texts' offsets into them (int64): by the compiled kernels where
    built, else :func:`_numpy_expand_texts`."""
    own = np.frombuffer(pieces.pieces, dtype=np.int32)
    kernel = kernels.compiled
    if kernel is None:
        return _numpy_expand_texts(words, offsets, pieces, own if table is None else table[own])
    if table is None:
        table = np.arange(pieces.tokenizer.processor.get_piece_size(), dtype=np.int32)
    words = np.ascontiguousarray(words, dtype=np.int32)
    counts = np.frombuffer(pieces.counts, dtype=np.int64)
    piece_offsets = np.empty(len(offsets), dtype=np.int64)
    kernel.piece_offsets(words, np.ascontiguousarray(offsets, np.int64), counts, piece_offsets)
    ids = np.empty(int(piece_offsets[-1]), dtype=np.int32)
    entries = np.frombuffer(pieces.entries, dtype=np.int64)
    kernel.expand_pieces(words, entries, own, np.ascontiguousarray(table, np.int32), ids)
    return ids, piece_offsets


def _numpy_expand_texts(
    words: np.ndarray, offsets: np.ndarray, pieces: _WordPieces, piece_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_expand_texts` in array operations, EXPAND_WORDS words at a time (arrays of a
    whole corpus' pieces are several times slower to build than blocks that stay in the
    processor's caches)."""
    parts, piece_offsets, done = [], np.zeros(len(offsets), dtype=np.int64), 0
    for start in range(0, len(words), EXPAND_WORDS):
        stop = min(start + EXPAND_WORDS, len(words))
        ids, word_counts = pieces.expand(words[start:stop], piece_ids)
        through = np.cumsum(word_counts)  # pieces up to and with each word of the block
        first, last = np.searchsorted(offsets, [start + 1, stop + 1])  # texts ending here
        piece_offsets[first:last] = done + through[offsets[first:last] - start - 1]
        parts.append(ids)
        done += len(ids)
    ids = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
    return ids.astype(np.int32, copy=False), piece_offsets


def _vocabulary(
    words: list[str], encoded: list[Flat], min_freq: int, max_vocab: int | None
) -> tuple[Vocab, list[Flat]]:
    """The vocabulary of texts encoded in provisional ids (``words``: provisional id -> type),
    and the texts in its ids."""
    counts = np.zeros(len(words), dtype=np.int64)
    for flat, _ in encoded:
        counts += np.bincount(flat.numpy(), minlength=len(words))
    vocab, table = _vocabulary_ids(words, counts, min_freq, max_vocab)
    return vocab, [(_joined([ids.numpy()], table), offsets) for ids, offsets in encoded]


def _vocabulary_ids(
    words: list[str], counts: np.ndarray, min_freq: int, max_vocab: int | None
) -> tuple[Vocab, np.ndarray]:
    """The vocabulary of types with these token counts (``words``: provisional id -> type),
    and the vocabulary id of each provisional id (int32)."""
    merged = None
    if JOINER in "".join(words) and len(set(words)) != len(words):
        # a type under two keys: a joiner written in the text itself
        index: dict[str, int] = {}
        merged = np.array([index.setdefault(w, len(index)) for w in words], dtype=np.int64)
        words, counts = list(index), np.bincount(merged, weights=counts).astype(np.int64)
    vocab, renumber = Vocab.from_count_array(words, counts, min_freq, max_vocab)
    return vocab, (renumber if merged is None else renumber[merged])


def encode_texts(
    texts: list[str], tokenizer: Tokenizer, vocab: Vocab, keys: VocabularyKeys | None = None
) -> Flat:
    """Texts -> (ids (N,) int32, offsets (len + 1,)) in the vocabulary's ids; by the
    training types' ``keys`` where given (whitespace and word tokenizers: ``keys`` from the
    training texts of this same tokenizer)."""
    if keys is not None:
        return _map_chunks(texts, tokenizer, keys)
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
    return _joined(parts), _offsets(lengths)


def _joined(parts: list[np.ndarray], table: np.ndarray | None = None) -> Tensor:
    """The parts' ids one after another (int32), each written as ``table`` gives it where
    given: one pass, a part at a time, the parts in worker threads for a large corpus (the
    whole corpus' ids converted to indices at once would be one more array of eight bytes a
    token)."""
    ids = np.empty(sum(map(len, parts)), dtype=np.int32)
    ends = np.cumsum([len(part) for part in parts], dtype=np.int64)

    def write(part: np.ndarray, end: int) -> None:
        if table is None:
            ids[end - len(part) : end] = part
        else:
            np.take(table, part, out=ids[end - len(part) : end])

    jobs = zip(parts, ends.tolist(), strict=True)
    for _ in in_order(write, jobs, parallel=len(ids) >= JOIN_IN_THREADS_FROM):
        pass
    return torch.from_numpy(ids)


def _offsets(lengths: list[np.ndarray]) -> Tensor:
    """Offsets (int64) of texts of these lengths (tokens), one after another."""
    offsets = np.zeros(sum(map(len, lengths)) + 1, dtype=np.int64)
    if len(offsets) > 1:
        np.cumsum(np.concatenate(lengths), out=offsets[1:])
    return torch.from_numpy(offsets)


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
        self._counts = np.zeros(1024, dtype=np.int64)

    def count(self, ids: np.ndarray, counts: np.ndarray) -> None:
        """Add these token counts of the provisional ids ``ids``."""
        if len(self.words) > len(self._counts):
            self._counts = np.concatenate(
                [self._counts, np.zeros(max(len(self.words), 2 * len(self._counts)), np.int64)]
            )
        np.add.at(self._counts, ids, counts)

    @property
    def counts(self) -> np.ndarray:
        """The tokens counted of each provisional id (int64)."""
        return self._counts[: len(self.words)]

    def _provisional(self, names: list[str]) -> list[int]:
        self.words.extend(names)
        return list(range(len(self.words) - len(names), len(self.words)))


class VocabularyKeys(ChunkTypes):
    """A vocabulary's ids of the training types, found by their keys in the table that
    numbered them: other texts of the same tokenizer are encoded with a string only for the
    types the training texts never held, not a word -> id dictionary of the vocabulary (for
    half a million words, a third of a second to build). ``table``: vocabulary id of each
    id of ``types``.

    A type the training texts never held is <unk>, unless its string is still a vocabulary
    word: a special's spelling, or a word holding a joiner (the word tokenizer's joiners
    are part of a key, so a joiner written in the text itself gives a key of its own)."""

    def __init__(self, types: ChunkTypes, table: np.ndarray, vocab: Vocab) -> None:
        super().__init__(self._unseen_ids)
        self.table = types.table
        self.key_ids = table[types.key_ids].astype(np.int64)
        self.vocab = vocab

    def local_ids(self, chunk: TokenizedChunk, known: np.ndarray | None = None) -> np.ndarray:
        """The id of each local type of the chunk (int64), given :meth:`known_ids`; the
        table is left as it is."""
        ids = self.known_ids(chunk) if known is None else known.copy()
        unseen = np.flatnonzero(ids < 0)
        if len(unseen):
            ids[unseen] = self._unseen_ids(chunk.type_strings(unseen))
        return ids

    def _unseen_ids(self, names: list[str]) -> list[int]:
        spelled = self._spelled
        return [spelled.get(name, UNK_ID) for name in names]

    @functools.cached_property
    def _spelled(self) -> dict[str, int]:
        """The ids of the vocabulary's words that an unseen key may still spell."""
        return {
            word: i for i, word in enumerate(self.vocab.itos) if i < len(SPECIALS) or JOINER in word
        }


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
        # for the compiled expansion, two a word: its piece where it is one, else its start;
        # its count
        self.entries = array("q")

    def add(self, words: list[str]) -> list[int]:
        """Encode these new (prepared) words; their indices."""
        first = len(self.counts)
        pieces, counts = self.tokenizer.encode_words(words)
        starts = np.cumsum(counts) - counts
        entries = np.stack([starts + len(self.pieces), counts], axis=1)
        one = counts == 1
        entries[one, 0] = pieces[starts[one]]
        self.starts.frombytes((starts + len(self.pieces)).tobytes())
        self.entries.frombytes(entries.tobytes())
        self.pieces.frombytes(pieces.tobytes())
        self.counts.frombytes(counts.tobytes())
        return list(range(first, len(self.counts)))

    def piece_counts(self, word_counts: np.ndarray) -> np.ndarray:
        """The tokens of each sentencepiece id in texts holding each word ``word_counts``
        times (int64)."""
        pieces = np.frombuffer(self.pieces, dtype=np.int32)
        weights = np.repeat(word_counts, np.frombuffer(self.counts, dtype=np.int64))
        size = self.tokenizer.processor.get_piece_size()
        return np.rint(np.bincount(pieces, weights=weights, minlength=size)).astype(np.int64)

    def expand(self, words: np.ndarray, piece_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pieces of a sequence of word indices, flat, each written as ``piece_ids``
        gives it (by its place in ``pieces``), and the pieces of each word."""
        word_counts = np.frombuffer(self.counts, dtype=np.int64)[words]
        starts = np.frombuffer(self.starts, dtype=np.int64)[words]
        return piece_ids[segment_positions(starts, word_counts)], word_counts


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
        token_offsets = np.concatenate([[0], np.cumsum(chunk.lengths)])
        token_ids = types.token_ids(chunk, known)  # new words' pieces added
        pieces, piece_offsets = _expand_texts(token_ids, token_offsets, words, None)
        piece_ends, text_lengths = piece_offsets[1:], np.diff(piece_offsets)
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
