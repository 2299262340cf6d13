"""Tokenizers for users' text (task.tokenizer): text -> tokens, and tokens -> text again.

* ``whitespace``: split on whitespace; decoding joins with single spaces.
* ``word``: words, numbers and punctuation marks become separate tokens ("yesterday." ->
  "yesterday", "￭."). Where no space separates two tokens, the joiner ``￭`` marks the
  punctuation side ("(￭", "￭.") as OpenNMT's tokenizer does, so decoding restores the text
  exactly, up to runs of whitespace.
* ``char``: every character is a token (whitespace included); decoding concatenates. The
  language-model task's character level.
* ``sentencepiece``: subword units (BPE or unigram, Kudo & Richardson 2018) trained on the
  training split with a given vocabulary size; decoding is sentencepiece's own.

Every tokenizer lowercases first when asked. Its state is plain containers and tensors, saved
in every checkpoint, so evaluate and translate segment raw text exactly as training did.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

import torch

TOKENIZERS = ("whitespace", "word", "sentencepiece")  # the choices of task.tokenizer
SENTENCEPIECE_MODELS = ("bpe", "unigram")
JOINER = "￭"
# sentencepiece learns its pieces from at most this many sentences (evenly spaced through the
# training text): more costs time and changes the pieces little.
SENTENCEPIECE_MAX_SENTENCES = 300_000
# A token: a word, possibly hyphenated or with an apostrophe, or one mark.
_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")


class Tokenizer:
    """Whitespace tokenization; the base of the others."""

    kind = "whitespace"

    def __init__(self, lowercase: bool = False) -> None:
        self.lowercase = lowercase

    def prepare(self, text: str) -> str:
        return text.lower() if self.lowercase else text

    def encode(self, text: str) -> list[str]:
        """The text's tokens: its words' tokens, one word after another."""
        return [token for word in self.prepare(text).split() for token in self.word_tokens(word)]

    def word_tokens(self, word: str) -> list[str]:
        """The tokens of one prepared word (no whitespace in it)."""
        return [word]

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

    def word_tokens(self, word: str) -> list[str]:
        tokens: list[str] = []
        for token in _TOKEN.findall(word):
            if tokens:  # written against the one before
                if not token[0].isalnum():
                    token = JOINER + token  # a mark: "word ￭."
                else:
                    tokens[-1] += JOINER  # a word after a mark: "(￭ word"
            tokens.append(token)
        return tokens

    def decode(self, tokens: list[str]) -> str:
        text = " ".join(tokens)
        return text.replace(" " + JOINER, "").replace(JOINER + " ", "").replace(JOINER, "")


class CharTokenizer(Tokenizer):
    """Characters as tokens, spaces included: decoding is exact."""

    kind = "char"

    def encode(self, text: str) -> list[str]:
        return list(self.prepare(text))

    def decode(self, tokens: list[str]) -> str:
        return "".join(tokens)


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

    def pieces(self) -> list[str]:
        """Piece of every sentencepiece id."""
        return [self.processor.id_to_piece(i) for i in range(self.processor.get_piece_size())]

    def decode(self, tokens: list[str]) -> str:
        return self.processor.decode_pieces(tokens)

    def state(self) -> dict[str, Any]:
        model = torch.frombuffer(bytearray(self.model), dtype=torch.uint8)
        return {"kind": self.kind, "lowercase": self.lowercase, "model": model}


# the tokenizers with no state beyond lowercasing, by kind (whitespace: the base class)
_SIMPLE_TOKENIZERS: dict[str, type[Tokenizer]] = {"word": WordTokenizer, "char": CharTokenizer}


def tokenizer_from_state(state: dict[str, Any]) -> Tokenizer:
    """The tokenizer a checkpoint saved (``state()``)."""
    kind, lowercase = state["kind"], bool(state.get("lowercase", False))
    if kind == "sentencepiece":
        return SentencePieceTokenizer(bytes(state["model"].numpy().tobytes()), lowercase)
    return _SIMPLE_TOKENIZERS.get(kind, Tokenizer)(lowercase)


def build_tokenizer(
    kind: str, texts: Sequence[str], lowercase: bool, vocab_size: int, model_type: str
) -> Tokenizer:
    """A tokenizer of ``kind`` for this training text."""
    if kind == "sentencepiece":
        return SentencePieceTokenizer.train(texts, vocab_size, model_type, lowercase)
    return _SIMPLE_TOKENIZERS.get(kind, Tokenizer)(lowercase)
