"""Token ids of a language model back into text, one token at a time: ``<eos>`` ends a line,
and each line's tokens are decoded by the tokenizer that cut them (characters concatenate,
words join with spaces, sentencepiece pieces as sentencepiece decodes them)."""

from __future__ import annotations

from collections.abc import Iterable

from seqlab.text.tokenizers import Tokenizer
from seqlab.text.vocab import EOS_ID, Vocab


class LineDecoder:
    """Feed ids with :meth:`add`; each call returns the text that became visible."""

    def __init__(self, vocab: Vocab, tokenizer: Tokenizer) -> None:
        self.vocab, self.tokenizer = vocab, tokenizer
        self.line: list[str] = []
        self.shown = ""

    def add(self, token: int) -> str:
        if token == EOS_ID:
            self.line, self.shown = [], ""
            return "\n"
        self.line.append(self.vocab.itos[token])
        decoded = self.tokenizer.decode(self.line)
        if not decoded.startswith(self.shown):
            return ""  # a tokenizer that rewrites the line so far: wait for it to settle
        new, self.shown = decoded[len(self.shown) :], decoded
        return new


def decode_text(ids: Iterable[int], vocab: Vocab, tokenizer: Tokenizer) -> str:
    """The text of a sequence of ids (as :class:`LineDecoder` shows it)."""
    decoder = LineDecoder(vocab, tokenizer)
    return "".join(decoder.add(int(i)) for i in ids)
