"""Texts -> flat arrays of vocabulary ids, each distinct word tokenized once.

The whitespace and word tokenizers cut a text at its whitespace first (``str.split``) and then
cut each word on its own: a text's tokens are its words' tokens, one word after another. So
the encoder splits each text into words, tokenizes every distinct word once, and builds each
text's tokens by gathering its words' tokens with numpy. Sentencepiece encodes whole texts,
in its own batch encoder with threads: a unigram model may cut a word differently inside a
text than alone (ties between equally likely segmentations), so its words are not encoded
apart.

A corpus is encoded in two steps, so that the vocabulary can come from the training split:
:meth:`CorpusEncoder.tokens` gives every text's tokens as indices into the encoder's own
token table, and :meth:`CorpusEncoder.vocabulary` / :meth:`CorpusEncoder.ids` turn them into
a :class:`~seqlab.text.vocab.Vocab` and its ids. The result equals
``vocab.encode(tokenizer.encode(text))`` text by text (tests/unit/text/test_encoder.py).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from seqlab.text.tokenizers import SentencePieceTokenizer, Tokenizer
from seqlab.text.vocab import UNK_ID, Vocab

CHUNK = 100_000  # texts split into words at a time (bounds the memory of the word strings)


@dataclass
class TokenizedTexts:
    """Texts as indices into a :class:`CorpusEncoder`'s token table.

    tokens: (N,) int64, every text's tokens one text after another; offsets: (texts + 1,)
    int64, text i is ``tokens[offsets[i]:offsets[i + 1]]``.
    """

    tokens: np.ndarray
    offsets: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def gather_segments(flat: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``flat[starts[i] : starts[i] + sizes[i]]`` for every i, one after another."""
    ends = np.cumsum(sizes)
    total = int(ends[-1]) if len(ends) else 0
    return flat[np.repeat(starts - (ends - sizes), sizes) + np.arange(total)]


class CorpusEncoder:
    """Tokenizes texts with ``tokenizer`` into token indices (each distinct word once, where
    the tokenizer cuts words apart).

    The token table grows as new tokens are met (whitespace and word tokenizers) or is
    sentencepiece's own list of pieces. ``threads``: sentencepiece's encoder threads.
    """

    def __init__(self, tokenizer: Tokenizer, threads: int | None = None) -> None:
        self.tokenizer = tokenizer
        self.threads = threads or max(1, torch.get_num_threads())
        self.pieces = isinstance(tokenizer, SentencePieceTokenizer)
        self.token_strings: list[str] = tokenizer.pieces() if self.pieces else []  # type: ignore[attr-defined]
        self._token_index: dict[str, int] = {}
        self._word_index: dict[str, int] = {}
        # the tokens of every distinct word met: word w is
        # _word_tokens[_word_starts[w] : _word_starts[w] + _word_sizes[w]]
        self._word_tokens = np.zeros(0, dtype=np.int64)
        self._word_starts = np.zeros(0, dtype=np.int64)
        self._word_sizes = np.zeros(0, dtype=np.int64)

    # ----- texts -> token indices ---------------------------------------------------------

    def tokens(
        self, texts: Sequence[str], done: Callable[[int], object] | None = None
    ) -> TokenizedTexts:
        """The tokens of every text, as indices into :attr:`token_strings`; ``done`` is called
        with the number of texts of each chunk tokenized (a progress bar's ``update``)."""
        parts, lengths = [], []
        for start in range(0, len(texts), CHUNK):
            flat, sizes = self._chunk_tokens(texts[start : start + CHUNK])
            parts.append(flat)
            lengths.append(sizes)
            if done is not None:
                done(len(sizes))
        sizes = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
        offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        flat = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return TokenizedTexts(flat, offsets)

    def _chunk_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The tokens of a chunk of texts, flat, and how many each text has."""
        prepared = [self.tokenizer.prepare(text) for text in texts]
        if self.pieces:
            encoded = self._encode_pieces(prepared)
            sizes = np.fromiter(map(len, encoded), np.int64, len(encoded))
            flat = np.fromiter(itertools.chain.from_iterable(encoded), np.int64, int(sizes.sum()))
            return flat, sizes
        # one pass over the words: each gets the index of its distinct word (a new word the
        # next index), and each text its number of words
        index = self._word_index
        known = len(index)
        setdefault = index.setdefault
        word_ids: list[int] = []
        text_words: list[int] = []
        for text in prepared:
            words = text.split()
            text_words.append(len(words))
            word_ids += [setdefault(word, len(index)) for word in words]
        self._add_words(list(itertools.islice(index, known, None)))
        ids = np.array(word_ids, dtype=np.int64)
        word_sizes = self._word_sizes[ids]
        flat = gather_segments(self._word_tokens, self._word_starts[ids], word_sizes)
        tokens_before_word = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(word_sizes, out=tokens_before_word[1:])
        words_before_text = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(text_words, out=words_before_text[1:])
        return flat, np.diff(tokens_before_word[words_before_text])

    def _add_words(self, new: list[str]) -> None:
        """Tokenize words met for the first time (numbered in ``_word_index`` already, in this
        order) and add their tokens to the word table."""
        if not new:
            return
        index = self._token_index
        flat: list[int] = []
        word_sizes: list[int] = []
        for word in new:
            tokens = self.tokenizer.word_tokens(word)
            for token in tokens:
                if token not in index:
                    index[token] = len(self.token_strings)
                    self.token_strings.append(token)
                flat.append(index[token])
            word_sizes.append(len(tokens))
        sizes = np.array(word_sizes, dtype=np.int64)
        starts = len(self._word_tokens) + np.cumsum(sizes) - sizes
        self._word_tokens = np.concatenate([self._word_tokens, np.array(flat, dtype=np.int64)])
        self._word_starts = np.concatenate([self._word_starts, starts])
        self._word_sizes = np.concatenate([self._word_sizes, sizes])

    def _encode_pieces(self, texts: list[str]) -> list[list[int]]:
        processor = self.tokenizer.processor  # type: ignore[attr-defined]
        return processor.encode(texts, out_type=int, num_threads=self.threads)

    # ----- token indices -> vocabulary ids ------------------------------------------------

    def counts(self, *tokenized: TokenizedTexts) -> Counter[str]:
        """How often each token occurs in these texts."""
        counts = np.zeros(len(self.token_strings), dtype=np.int64)
        for texts in tokenized:
            counts += np.bincount(texts.tokens, minlength=len(self.token_strings))
        return Counter({self.token_strings[i]: int(counts[i]) for i in np.flatnonzero(counts)})

    def ids(self, tokenized: TokenizedTexts, vocab: Vocab) -> tuple[torch.Tensor, torch.Tensor]:
        """The texts as ``vocab`` ids (<unk> for tokens it lacks): flat ids (int32) and
        offsets (int64, one more than there are texts)."""
        lookup = np.array(
            [vocab.stoi.get(token, UNK_ID) for token in self.token_strings], dtype=np.int32
        )
        ids = lookup[tokenized.tokens] if len(lookup) else np.zeros(0, dtype=np.int32)
        return torch.from_numpy(ids), torch.from_numpy(tokenized.offsets)


def vocabulary(
    sides: Sequence[tuple[CorpusEncoder, TokenizedTexts]], min_freq: int, max_size: int | None
) -> Vocab:
    """The vocabulary of the tokens of these training texts (one side, or both sides of a
    shared vocabulary): tokens seen at least ``min_freq`` times, the ``max_size`` most frequent
    (as :meth:`Vocab.build`)."""
    counts: Counter[str] = Counter()
    for encoder, tokenized in sides:
        counts.update(encoder.counts(tokenized))
    return Vocab.from_counts(counts, min_freq, max_size)
