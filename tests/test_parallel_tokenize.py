"""Tokenizing in worker processes gives exactly what one process gives."""

from __future__ import annotations

import pytest

from seqlab.tasks import parallel_tokenize
from seqlab.tasks.tokenizers import Tokenizer, WordTokenizer

TEXTS = [
    f"Line {i}: the cat's {i % 7} toys (and a dog) -- don't stop! é{i % 3}" for i in range(2500)
]


@pytest.mark.parametrize("tokenizer", [Tokenizer(), WordTokenizer(lowercase=True)])
def test_workers_give_the_same_chunks_as_one_process(tokenizer, monkeypatch):
    monkeypatch.setattr(parallel_tokenize, "CHUNK", 300)
    monkeypatch.setattr(parallel_tokenize, "PARALLEL_FROM", 1000)
    one = list(parallel_tokenize.tokenize_chunks(TEXTS, tokenizer, workers=1))
    two = list(parallel_tokenize.tokenize_chunks(TEXTS, tokenizer, workers=2))
    assert len(one) == len(two) == 9
    assert one == two
    ids, lengths, types = one[0]
    chunk = TEXTS[:300]
    assert list(lengths) == [len(tokenizer.encode(text)) for text in chunk]
    assert [types[i] for i in ids] == [t for text in chunk for t in tokenizer.encode(text)]


def test_small_inputs_stay_in_process(monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("a pool was started for a small input")

    monkeypatch.setattr(parallel_tokenize, "ProcessPoolExecutor", no_pool)
    chunks = list(parallel_tokenize.tokenize_chunks(TEXTS, Tokenizer(), workers=2))
    assert sum(len(lengths) for _, lengths, _ in chunks) == len(TEXTS)
