"""Tokenizers for users' text (task.tokenizer): text -> tokens, and tokens -> text again.

* ``whitespace``: split on whitespace; decoding joins with single spaces.
* ``word``: words, numbers and punctuation marks become separate tokens ("yesterday." ->
  "yesterday", "￭."). Where no space separates two tokens, the joiner ``￭`` marks the
  punctuation side ("(￭", "￭.") as OpenNMT's tokenizer does, so decoding restores the text
  exactly, up to runs of whitespace.
* ``sentencepiece``: subword units (BPE or unigram, Kudo & Richardson 2018) trained on the
  training split with a given vocabulary size; decoding is sentencepiece's own.

Every tokenizer lowercases first when asked. Its state is plain containers and tensors, saved
in every checkpoint, so evaluate and translate segment raw text exactly as training did.
"""

from __future__ import annotations

import functools
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch

from seqlab.tasks.segments import segment_positions

TOKENIZERS = ("whitespace", "word", "sentencepiece")
SENTENCEPIECE_MODELS = ("bpe", "unigram")
JOINER = "￭"
# sentencepiece learns its pieces from at most this many sentences (evenly spaced through the
# training text): more costs time and changes the pieces little.
SENTENCEPIECE_MAX_SENTENCES = 300_000
WORDS_PER_TEXT = 256  # words encoded together by SentencePieceTokenizer.encode_words
# A token (a word, possibly hyphenated or with an apostrophe, or one mark) and the
# whitespace before it.
_SPACED_TOKEN = re.compile(r"(\s*)(\w+(?:[-'’]\w+)*|[^\w\s])")


class Tokenizer:
    """Whitespace tokenization; the base of the others."""

    kind = "whitespace"

    def __init__(self, lowercase: bool = False) -> None:
        self.lowercase = lowercase

    def prepare(self, text: str) -> str:
        return text.lower() if self.lowercase else text

    def encode(self, text: str) -> list[str]:
        return self.prepare(text).split()

    def encode_all(self, texts: Iterable[str]) -> list[list[str]]:
        return [self.encode(text) for text in texts]

    def decode(self, tokens: list[str]) -> str:
        return " ".join(tokens)

    def state(self) -> dict[str, Any]:
        return {"kind": self.kind, "lowercase": self.lowercase}


class WordTokenizer(Tokenizer):
    """Words and punctuation marks as tokens; the joiner on a mark says it touched its
    neighbour, so decoding is exact."""

    kind = "word"

    def encode(self, text: str) -> list[str]:
        tokens: list[str] = []
        for space, token in _SPACED_TOKEN.findall(self.prepare(text)):
            if tokens and not space:  # written against the one before
                if not token[0].isalnum():
                    token = JOINER + token  # a mark: "word ￭."
                else:
                    tokens[-1] += JOINER  # a word after a mark: "(￭ word"
            tokens.append(token)
        return tokens

    def decode(self, tokens: list[str]) -> str:
        text = " ".join(tokens)
        return text.replace(" " + JOINER, "").replace(JOINER + " ", "").replace(JOINER, "")


class SentencePieceTokenizer(Tokenizer):
    """Subword units from a trained sentencepiece model (held as its serialized bytes)."""

    kind = "sentencepiece"

    def __init__(self, model: bytes, lowercase: bool = False) -> None:
        super().__init__(lowercase)
        import sentencepiece

        self.model = model
        self.processor = sentencepiece.SentencePieceProcessor(model_proto=model)

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        vocab_size: int,
        model_type: str = "bpe",
        lowercase: bool = False,
    ) -> SentencePieceTokenizer:
        """Train on ``texts`` (the training split; at most SENTENCEPIECE_MAX_SENTENCES of them,
        evenly spaced); the vocabulary shrinks to what the text supports when it is smaller
        than ``vocab_size``."""
        import sentencepiece

        step = max(1, -(-len(texts) // SENTENCEPIECE_MAX_SENTENCES))
        prepared = [text.lower() if lowercase else text for text in texts[::step]]
        buffer = io.BytesIO()
        size = vocab_size
        while True:
            try:
                sentencepiece.SentencePieceTrainer.train(
                    sentence_iterator=iter(prepared),
                    model_writer=buffer,
                    vocab_size=size,
                    model_type=model_type,
                    character_coverage=1.0,
                    num_threads=1,  # threads change the pieces learned: one, to reproduce
                    minloglevel=2,
                    hard_vocab_limit=model_type == "bpe",
                )
                break
            except RuntimeError as error:
                found = re.search(r"value <= (\d+)", str(error))
                if not found or int(found.group(1)) >= size:
                    raise
                size = int(found.group(1))  # a small corpus: as many pieces as it allows
                buffer = io.BytesIO()
        return cls(buffer.getvalue(), lowercase)

    def encode(self, text: str) -> list[str]:
        return self.processor.encode(self.prepare(text), out_type=str)

    def encode_all(self, texts: Iterable[str]) -> list[list[str]]:
        return self.processor.encode([self.prepare(t) for t in texts], out_type=str)

    def encode_all_ids(self, texts: list[str]) -> list[list[int]]:
        """The pieces of each text as sentencepiece's own ids (see :meth:`pieces`): no Python
        string per token, for large corpora."""
        threads = max(1, torch.get_num_threads())
        prepared = [self.prepare(t) for t in texts]
        return self.processor.encode(prepared, out_type=int, num_threads=threads)

    def encode_words(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The pieces of these words (prepared, no whitespace in them) as sentencepiece ids,
        flat (int32), and the pieces of each word (int64), as the word's pieces are inside
        any text (see :attr:`non_splitting_spaces`). Plain words (printable, in the NFKC
        normal form sentencepiece's normalizer produces) are encoded a few hundred to a text,
        and the text's pieces cut where a piece starts a word: one call per text is most of
        the encoder's cost. Other words, and the words of a text whose pieces do not start as
        many words as it holds, are encoded one by one."""
        threads = max(1, torch.get_num_threads())
        counts = np.full(len(words), -1, dtype=np.int64)
        segments: list[tuple[np.ndarray, np.ndarray]] = []  # (word positions, their pieces)
        batches: list[list[int]] = []
        texts: list[str] = []
        for start in range(0, len(words), WORDS_PER_TEXT):
            batch = list(range(start, min(start + WORDS_PER_TEXT, len(words))))
            text = " ".join(words[start : start + WORDS_PER_TEXT])
            # a space joins no character in normalization, nor moves past one: the text is
            # plain where all its words are; else its plain words go on their own
            if not _plain(text):
                batch = [i for i in batch if _plain(words[i])]
                text = " ".join(words[i] for i in batch)
            batches.append(batch)
            texts.append(text)
        starts = self._word_starts
        for batch, ids in zip(
            batches, self.processor.encode(texts, out_type=int, num_threads=threads), strict=True
        ):
            pieces = np.array(ids, dtype=np.int32)
            cuts = np.flatnonzero(starts[pieces])
            if len(cuts) == len(batch) and (not len(cuts) or cuts[0] == 0):
                positions = np.array(batch, dtype=np.int64)
                counts[positions] = np.diff(cuts, append=len(pieces))
                segments.append((positions, pieces))
        rest = np.flatnonzero(counts < 0)
        encoded = self.processor.encode(
            [words[i] for i in rest.tolist()], out_type=int, num_threads=threads
        )
        counts[rest] = [len(pieces) for pieces in encoded]
        segments.append((rest, np.array([p for ps in encoded for p in ps], dtype=np.int32)))
        flat = np.zeros(int(counts.sum()), dtype=np.int32)
        word_starts = np.cumsum(counts) - counts
        for positions, pieces in segments:  # each segment's pieces to its words' places
            flat[segment_positions(word_starts[positions], counts[positions])] = pieces
        return flat, counts

    @functools.cached_property
    def _word_starts(self) -> np.ndarray:
        """Which piece ids start a word (begin with sentencepiece's space mark)."""
        return np.array([piece.startswith("▁") for piece in self.pieces()], dtype=bool)

    @functools.cached_property
    def non_splitting_spaces(self) -> str:
        """The whitespace characters (to Python's ``str.split``) that this model does not treat
        as a space between words (sentencepiece's default normalization deletes U+000B,
        U+001C-U+001F and U+0085). Everywhere else a text's pieces are its whitespace-separated
        words' pieces, one after another: sentencepiece never joins pieces across a space (its
        pieces hold the word-start mark ``▁`` only at their start), so each distinct word of a
        large corpus is encoded once (seqlab.tasks.flat_encoding)."""
        spaces = [chr(c) for c in range(0x3001) if chr(c).isspace() and c != 0x20]
        found = []
        for space in spaces:
            text = f"a{space}b"
            whole = self.processor.encode(text, out_type=str)
            if whole != [p for w in text.split() for p in self.processor.encode(w, out_type=str)]:
                found.append(space)
        return "".join(found)

    def pieces(self) -> list[str]:
        """Piece of every sentencepiece id."""
        return [self.processor.id_to_piece(i) for i in range(self.processor.get_piece_size())]

    def decode(self, tokens: list[str]) -> str:
        return self.processor.decode_pieces(tokens)

    def state(self) -> dict[str, Any]:
        model = torch.frombuffer(bytearray(self.model), dtype=torch.uint8)
        return {"kind": self.kind, "lowercase": self.lowercase, "model": model}


def _plain(text: str) -> bool:
    """Printable and in the NFKC normal form that sentencepiece's normalizer produces."""
    return text.isprintable() and unicodedata.is_normalized("NFKC", text)


def tokenizer_from_state(state: dict[str, Any]) -> Tokenizer:
    """The tokenizer a checkpoint saved (``state()``)."""
    kind, lowercase = state["kind"], bool(state.get("lowercase", False))
    if kind == "sentencepiece":
        return SentencePieceTokenizer(bytes(state["model"].numpy().tobytes()), lowercase)
    return WordTokenizer(lowercase) if kind == "word" else Tokenizer(lowercase)


def build_tokenizer(
    kind: str, texts: Sequence[str], lowercase: bool, vocab_size: int, model_type: str
) -> Tokenizer:
    """A tokenizer of ``kind`` for this training text."""
    if kind == "sentencepiece":
        return SentencePieceTokenizer.train(texts, vocab_size, model_type, lowercase)
    return WordTokenizer(lowercase) if kind == "word" else Tokenizer(lowercase)
