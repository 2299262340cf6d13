"""Flat id arrays equal the tokenizers' own encoding, text by text: sentencepiece encoded a
distinct word at a time equals sentencepiece on whole texts (real corpora, both models, texts
with spaces the model does not split on), and vocabulary ids equal Vocab.encode."""

from __future__ import annotations

import itertools

import pytest

from seqlab.tasks import parallel_tokenize
from seqlab.tasks.flat_encoding import encode_texts, encode_training_texts, sentencepiece_ids
from seqlab.tasks.tokenizers import SentencePieceTokenizer, Tokenizer, WordTokenizer
from seqlab.tasks.vocab import Vocab
from tests.conftest import ROOT

DATA = ROOT.parent / "shared" / "data"


def as_lists(flat) -> list[list[int]]:
    ids, offsets = flat
    bounds = offsets.tolist()
    return [ids[a:b].tolist() for a, b in itertools.pairwise(bounds)]


@pytest.fixture(scope="module")
def multi30k_sides() -> tuple[list[str], list[str]]:
    lines = (DATA / "multi30k" / "train.tsv").read_text(encoding="utf-8").splitlines()[:4000]
    pairs = [line.split("\t") for line in lines]
    return [s for s, _ in pairs], [t for _, t in pairs]


@pytest.mark.parametrize("model", ["bpe", "unigram"])
@pytest.mark.parametrize("lowercase", [False, True])
def test_sentencepiece_by_word_equals_whole_texts(multi30k_sides, model, lowercase, monkeypatch):
    monkeypatch.setattr(parallel_tokenize, "CHUNK", 1500)  # several chunks, words carried over
    for side in multi30k_sides:
        tokenizer = SentencePieceTokenizer.train(side, 600, model, lowercase)
        # texts with spaces the model deletes (U+000B, U+0085) must be encoded whole
        texts = [
            *side[:2000],
            "Ein\x0bMann  läuft\x85schnell .",
            "\x0b",
            "",
            "  a  ",
            "ﬁsch´s Ｆｕｌｌ ´",
        ]
        assert tokenizer.non_splitting_spaces  # sentencepiece's default normalization
        assert as_lists(sentencepiece_ids(texts, tokenizer)) == tokenizer.encode_all_ids(texts)


def test_non_splitting_spaces_are_what_sentencepiece_deletes(multi30k_sides):
    tokenizer = SentencePieceTokenizer.train(multi30k_sides[0][:2000], 300)
    assert tokenizer.non_splitting_spaces == "\x0b\x1c\x1d\x1e\x1f\x85"


@pytest.mark.parametrize("tokenizer", [Tokenizer(), WordTokenizer(lowercase=True)])
def test_vocabulary_ids_equal_vocab_encode(multi30k_sides, tokenizer, monkeypatch):
    monkeypatch.setattr(parallel_tokenize, "CHUNK", 700)
    train, test = multi30k_sides[0][:3000], [*multi30k_sides[0][3000:], "", "unseenword !"]
    vocab, (flat,) = encode_training_texts([(train, tokenizer)], min_freq=2, max_vocab=None)
    assert vocab.itos == Vocab.build(tokenizer.encode_all(train), min_freq=2).itos
    assert as_lists(flat) == [vocab.encode(tokenizer.encode(text)) for text in train]
    assert as_lists(encode_texts(test, tokenizer, vocab)) == [
        vocab.encode(tokenizer.encode(text)) for text in test
    ]


@pytest.mark.parametrize("tokenizer", [Tokenizer(), WordTokenizer()])
def test_worker_threads_give_the_ids_of_one_thread(multi30k_sides, tokenizer, monkeypatch):
    """Workers look up the types seen before and the caller numbers the rest: the same ids
    as Vocab.encode, with chunks looked up before the chunks ahead of them were merged."""
    monkeypatch.setattr(parallel_tokenize, "CHUNK", 250)
    monkeypatch.setattr(parallel_tokenize, "PARALLEL_FROM", 1000)
    monkeypatch.setattr(parallel_tokenize, "default_workers", lambda: 2)
    train, test = multi30k_sides[1][:3000], multi30k_sides[1][3000:]
    vocab, (flat,) = encode_training_texts([(train, tokenizer)], min_freq=1, max_vocab=None)
    assert vocab.itos == Vocab.build(tokenizer.encode_all(train)).itos
    assert as_lists(flat) == [vocab.encode(tokenizer.encode(text)) for text in train]
    assert as_lists(encode_texts(test, tokenizer, vocab)) == [
        vocab.encode(tokenizer.encode(text)) for text in test
    ]


def test_a_type_under_two_keys_gets_one_id(monkeypatch):
    """A joiner written in the text: the array path keys '￭￭' as '￭' joined to the word
    before, the text-by-text path (a chunk with a newline inside a text) by its string."""
    monkeypatch.setattr(parallel_tokenize, "CHUNK", 2)
    tokenizer = WordTokenizer()
    texts = ["x￭ .", "y.", "x￭ .\nz", "y."]
    vocab, (flat,) = encode_training_texts([(texts, tokenizer)], min_freq=1, max_vocab=None)
    assert vocab.itos == Vocab.build(tokenizer.encode_all(texts)).itos
    assert as_lists(flat) == [vocab.encode(tokenizer.encode(text)) for text in texts]
    assert vocab.itos.count("￭￭") == 1
