"""Word vocabularies with padding, unknown, begin and end of sentence."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import cached_property

import numpy as np

from seqlab.tasks.segments import words_at_every_byte

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
SPECIALS_SET = frozenset(SPECIALS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(4)


class Vocab:
    """Maps words to ids: the four specials first, then words by falling frequency."""

    def __init__(self, words: Iterable[str]) -> None:
        self.itos: list[str] = list(SPECIALS) + [w for w in words if w not in SPECIALS_SET]

    @classmethod
    def build(
        cls, sentences: Iterable[list[str]], min_freq: int = 1, max_size: int | None = None
    ) -> Vocab:
        """Words seen at least ``min_freq`` times, the ``max_size`` most frequent (ties
        broken alphabetically, so the vocabulary is deterministic)."""
        counts: Counter[str] = Counter()
        for sentence in sentences:
            counts.update(sentence)
        return cls.from_counts(counts, min_freq, max_size)

    @classmethod
    def from_counts(
        cls, counts: Counter[str], min_freq: int = 1, max_size: int | None = None
    ) -> Vocab:
        """The vocabulary of these token counts (as :meth:`build`)."""
        words = sorted(w for w, c in counts.items() if c >= min_freq)
        words.sort(key=counts.__getitem__, reverse=True)  # stable: ties stay alphabetical
        if max_size is not None:
            words = words[:max_size]
        return cls(words)

    @classmethod
    def from_count_array(
        cls, words: list[str], counts: np.ndarray, min_freq: int = 1, max_size: int | None = None
    ) -> tuple[Vocab, np.ndarray]:
        """The vocabulary of distinct ``words`` with these ``counts`` (as :meth:`from_counts`),
        and the id of every word (int32; UNK_ID for the words left out), found by sorting
        arrays instead of looking each word up."""
        alphabetical = alphabetical_order(words)
        alphabetical = alphabetical[counts[alphabetical] >= min_freq]
        order = alphabetical[np.argsort(-counts[alphabetical], kind="stable")]
        if max_size is not None:
            order = order[:max_size]
        everything = np.empty(len(words), dtype=object)
        everything[:] = words
        ordered: list[str] = everything[order].tolist()
        ids = np.full(len(words), UNK_ID, dtype=np.int32)
        if SPECIALS_SET.isdisjoint(words):
            ids[order] = np.arange(len(SPECIALS), len(SPECIALS) + len(order))
            return cls._of_words(ordered), ids
        vocab = cls(ordered)  # the text holds a special's spelling: the special's id
        ids[order] = [vocab.stoi[w] for w in ordered]
        for i, word in enumerate(words):
            if word in SPECIALS_SET:
                ids[i] = vocab.stoi[word]
        return vocab, ids

    @classmethod
    def _of_words(cls, words: list[str]) -> Vocab:
        """As ``Vocab(words)`` for words that hold no special's spelling."""
        vocab = cls.__new__(cls)
        vocab.itos = [*SPECIALS, *words]
        return vocab

    @cached_property
    def stoi(self) -> dict[str, int]:
        """Word -> id, built when first asked for."""
        return dict(zip(self.itos, range(len(self.itos)), strict=True))

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, words: list[str]) -> list[int]:
        return [self.stoi.get(w, UNK_ID) for w in words]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """ids -> words, stopping at <eos> and dropping <pad> / <bos>."""
        words = []
        for i in ids:
            if i == EOS_ID:
                break
            if i in (PAD_ID, BOS_ID):
                continue
            words.append(self.itos[i] if 0 <= i < len(self.itos) else UNK)
        return words

    def to_list(self) -> list[str]:
        return list(self.itos)

    @classmethod
    def from_list(cls, itos: list[str]) -> Vocab:
        if list(itos[:4]) != list(SPECIALS):
            raise ValueError("not a seqlab vocabulary: the first entries must be the specials")
        return cls(itos[4:])


PREFIX = 16  # bytes of each word sorted in arrays; longer words that tie on them, in Python
_LEADING = np.array([((1 << 64) - 1) ^ ((1 << (64 - 8 * k)) - 1) for k in range(9)], np.uint64)


def alphabetical_order(words: list[str]) -> np.ndarray:
    """The positions of ``words`` in Python's string order (``sorted``; int64), found by
    sorting their first PREFIX UTF-8 bytes in arrays (UTF-8 bytes sort as code points do).

    Words are sorted by their first 8 bytes (zero-padded, as big-endian numbers); where those
    tie, by the next 8 and then the length, which orders words of at most PREFIX bytes as
    Python does (of two that tie, the shorter is the other's start); longer words that tie
    on all three are sorted in Python."""
    blob = "\n".join(words).encode("utf-8", "surrogatepass")
    if len(words) < 2 or blob.count(b"\n") != len(words) - 1:  # a word holds a newline
        return np.array(sorted(range(len(words)), key=words.__getitem__), dtype=np.int64)
    padded = blob + bytes(PREFIX)
    ends = np.append(np.flatnonzero(np.frombuffer(blob, dtype=np.uint8) == 10), len(blob))
    starts = np.concatenate([[0], ends[:-1] + 1])
    sizes = ends - starts
    at = words_at_every_byte(padded, ">")  # big-endian: numbers sort as the bytes do
    high = at[starts].astype(np.uint64) & _LEADING[np.minimum(sizes, 8)]
    order = np.argsort(high, kind="stable")
    same = high[order[1:]] == high[order[:-1]]
    if not same.any():
        return order
    # words that tie on their first 8 bytes: by the next 8, then by length
    low = at[starts + 8].astype(np.uint64) & _LEADING[np.clip(sizes - 8, 0, 8)]
    size_key = np.minimum(sizes, PREFIX + 1)
    tied_positions = np.flatnonzero(np.append(same, False) | np.insert(same, 0, False))
    tied = order[tied_positions]
    tied = tied[np.lexsort((size_key[tied], low[tied], high[tied]))]
    order[tied_positions] = tied  # a group of equal first bytes keeps its positions
    # words of more than PREFIX bytes that tie on all of those: in Python
    ends_tied = (size_key[tied[1:]] > PREFIX) & (size_key[tied[:-1]] > PREFIX)
    ends_tied &= (high[tied[1:]] == high[tied[:-1]]) & (low[tied[1:]] == low[tied[:-1]])
    if ends_tied.any():
        edges = np.diff(ends_tied.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
        runs = zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)
        for first, last in runs:  # tied[first : last + 1] tie on their first PREFIX bytes
            run = tied[first : last + 1].tolist()
            tied[first : last + 1] = sorted(run, key=words.__getitem__)
        order[tied_positions] = tied
    return order
