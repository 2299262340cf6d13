"""Word vocabularies with padding, unknown, begin and end of sentence."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import cached_property

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
