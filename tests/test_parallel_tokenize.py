"""Tokenizing in worker threads gives exactly what one thread gives."""

from __future__ import annotations

import itertools
import threading

import pytest

from seqlab.tasks import parallel_tokenize
from seqlab.tasks.tokenizers import Tokenizer, WordTokenizer

TEXTS = [
    f"Line {i}: the cat's {i % 7} toys (and a dog) -- don't stop! é{i % 3}" for i in range(2500)
]


def as_lists(chunks):
    return [
        (c.ids.tolist(), c.lengths.tolist(), c.types, c.first.tolist(), c.flagged.tolist())
        for c in chunks
    ]


@pytest.mark.parametrize("tokenizer", [Tokenizer(), WordTokenizer(lowercase=True)])
def test_workers_give_the_same_chunks_as_one_thread(tokenizer, monkeypatch):
    monkeypatch.setattr(parallel_tokenize, "CHUNK", 300)
    monkeypatch.setattr(parallel_tokenize, "PARALLEL_FROM", 1000)
    one = [c for c, _ in parallel_tokenize.tokenize_chunks(TEXTS, tokenizer, workers=1)]
    two = [c for c, _ in parallel_tokenize.tokenize_chunks(TEXTS, tokenizer, workers=2)]
    assert len(one) == len(two) == 9
    assert as_lists(one) == as_lists(two)
    ids, lengths, types = one[0].ids, one[0].lengths, one[0].types
    chunk = TEXTS[:300]
    assert list(lengths) == [len(tokenizer.encode(text)) for text in chunk]
    assert [types[i] for i in ids] == [t for text in chunk for t in tokenizer.encode(text)]


@pytest.mark.parametrize("kind", ["whitespace", "word"])
def test_text_by_text_gives_the_same_tokens_as_array_operations(kind):
    texts = [text + ("\x85" if i % 3 == 0 else "") for i, text in enumerate(TEXTS[:500])]
    fast = parallel_tokenize.tokenize_chunk(kind, True, texts, "\x85")
    slow = parallel_tokenize.tokenize_text_by_text(kind, True, texts, "\x85")
    assert fast.lengths.tolist() == slow.lengths.tolist()
    fast_types, slow_types = fast.types, slow.types
    assert [fast_types[i] for i in fast.ids] == [slow_types[i] for i in slow.ids]
    assert fast.flagged.tolist() == slow.flagged.tolist() == list(range(0, 500, 3))


def test_small_inputs_stay_in_one_thread(monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("threads were started for a small input")

    monkeypatch.setattr(parallel_tokenize, "ThreadPoolExecutor", no_pool)
    chunks = list(parallel_tokenize.tokenize_chunks(TEXTS, Tokenizer(), workers=2))
    assert sum(len(chunk.lengths) for chunk, _ in chunks) == len(TEXTS)


def test_look_up_runs_on_each_chunk_in_its_worker(monkeypatch):
    monkeypatch.setattr(parallel_tokenize, "CHUNK", 300)
    monkeypatch.setattr(parallel_tokenize, "PARALLEL_FROM", 1000)
    main = threading.get_ident()
    threads = []

    def look_up(chunk):
        threads.append(threading.get_ident())
        return len(chunk.lengths)

    pairs = list(parallel_tokenize.tokenize_chunks(TEXTS, Tokenizer(), 2, look_up=look_up))
    assert [found for _, found in pairs] == [len(chunk.lengths) for chunk, _ in pairs]
    assert len(threads) == len(pairs) == 9 and main not in threads


@pytest.mark.parametrize("size", [1, 7, 40, 10_000])
def test_pair_chunks_are_whole_lines_covering_the_file(size):
    raw = b"".join(f"src {i}\ttgt {'x' * (i % 13)}\n".encode() for i in range(200))
    bounds = parallel_tokenize.pair_chunk_bounds(raw, size)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(raw)
    assert all(end == start for (_, end), (start, _) in itertools.pairwise(bounds))
    assert all(raw[end - 1 : end] == b"\n" for _, end in bounds)
    assert all(end - start <= max(size, 20) + 20 for start, end in bounds)
