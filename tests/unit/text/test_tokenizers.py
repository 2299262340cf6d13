"""Tokenizers: text -> tokens -> the same text, and their state in checkpoints."""

from __future__ import annotations

import pytest

from seqlab.data.pairs import Tokenization
from seqlab.errors import ConfigError
from seqlab.text.lines import LineDecoder, decode_text
from seqlab.text.tokenizers import (
    CharTokenizer,
    SentencePieceTokenizer,
    Tokenizer,
    WordTokenizer,
    tokenizer_from_state,
)
from seqlab.text.vocab import EOS_ID, Vocab

TEXTS = [
    "Two young, White males are outside near many bushes.",
    "Several men in hard hats are operating a giant pulley system.",
    'A little girl climbing into a wooden playhouse ("Spielhaus")!',
    "room temp.I watched staff (BARE HANDS), no gloves... U.S. $5 isn't cheap",
] * 20


@pytest.mark.parametrize("text", TEXTS[:4])
def test_word_tokens_split_punctuation_and_decode_exactly(text):
    tokens = WordTokenizer().encode(text)
    assert WordTokenizer().decode(tokens) == " ".join(text.split())
    assert not any(t.endswith((",", ".", "!")) and len(t) > 1 and t[0].isalnum() for t in tokens)


def test_word_tokens_mark_what_touched_its_neighbour():
    assert WordTokenizer().encode("Yesterday, (really) yes.") == [
        "Yesterday",
        "￭,",
        "(￭",
        "really",
        "￭)",
        "yes",
        "￭.",
    ]
    assert WordTokenizer(lowercase=True).encode("Hi!") == ["hi", "￭!"]
    assert Tokenizer().encode(" a  b ") == ["a", "b"] and Tokenizer().decode(["a", "b"]) == "a b"


def test_sentencepiece_learns_subwords_and_decodes_exactly():
    tokenizer = SentencePieceTokenizer.train(TEXTS, vocab_size=60, model_type="bpe")
    for text in TEXTS[:4]:
        pieces = tokenizer.encode(text)
        assert tokenizer.decode(pieces) == " ".join(text.split())
    assert len(tokenizer.encode(TEXTS[0])) < len(TEXTS[0])  # pieces, not characters
    again = SentencePieceTokenizer.train(TEXTS, vocab_size=60, model_type="bpe")
    assert again.model == tokenizer.model  # deterministic


def test_a_vocabulary_larger_than_the_text_allows_shrinks():
    tokenizer = SentencePieceTokenizer.train(["a b c", "a b"], vocab_size=8000, model_type="bpe")
    assert tokenizer.decode(tokenizer.encode("a b c")) == "a b c"


@pytest.mark.parametrize(
    "tokenizer",
    [
        Tokenizer(lowercase=True),
        WordTokenizer(),
        SentencePieceTokenizer.train(TEXTS, 50, "unigram"),
    ],
)
def test_state_round_trips(tokenizer):
    restored = tokenizer_from_state(tokenizer.state())
    assert type(restored) is type(tokenizer) and restored.lowercase == tokenizer.lowercase
    assert restored.encode(TEXTS[2]) == tokenizer.encode(TEXTS[2])


def test_bad_tokenization_options_are_refused():
    with pytest.raises(ConfigError, match="task.tokenizer='spaces' is unknown"):
        Tokenization(tokenizer="spaces").check()
    with pytest.raises(ConfigError, match="task.sentencepiece_model='char' is unknown"):
        Tokenization(sentencepiece_model="char").check()
    with pytest.raises(ConfigError, match="task.vocab_size must be >= 8"):
        Tokenization(vocab_size=2).check()


def test_characters_are_tokens_spaces_included_and_decode_exactly():
    tokenizer = CharTokenizer(lowercase=True)
    assert tokenizer.encode("Ab c") == ["a", "b", " ", "c"]
    assert tokenizer.decode(["a", " ", "b"]) == "a b"
    restored = tokenizer_from_state(tokenizer.state())
    assert isinstance(restored, CharTokenizer) and restored.lowercase


def test_ids_become_text_token_by_token():
    vocab = Vocab(["the", "cat", "sat"])
    decoder = LineDecoder(vocab, Tokenizer())
    pieces = [decoder.add(i) for i in [4, 5, EOS_ID, 6]]
    assert pieces == ["the", " cat", "\n", "sat"]  # words joined by spaces, <eos> a line end
    assert decode_text([4, 5, EOS_ID, 6, 4], vocab, Tokenizer()) == "the cat\nsat the"
