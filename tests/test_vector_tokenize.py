"""Tokenizing a chunk in array operations gives exactly the tokens of the tokenizers' own
``encode``, text by text: on random text built to hit every boundary rule, and on real
corpora."""

from __future__ import annotations

import random
import re
import threading
import time

import numpy as np
import pytest

from seqlab.tasks import kernels, vector_tokenize
from seqlab.tasks.parallel_tokenize import tokenize_chunk, tokenize_text_by_text
from seqlab.tasks.tokenizers import Tokenizer, WordTokenizer
from tests.conftest import ROOT

DATA = ROOT.parent / "shared" / "data"
# spaces of every kind (tab, U+001C, no-break, ideographic), word characters (underscore,
# digits, Arabic-Indic digit, a mathematical letter and an emoji outside the BMP), the
# connectors - ' ’, marks, a final sigma and a dotted capital I (its lowercase is 2 chars)
POOL = [*list("ab cZ_-'’.,!?()\t\x1c\xa0\u3000é9٣𝐀😀«»ΣσİDon￭"), "  ", "--", "''", "a-b", "x'y"]


def tokens_of(chunk: vector_tokenize.TokenizedChunk) -> list[list[str]]:
    out, position, types = [], 0, chunk.types
    for length in chunk.lengths.tolist():
        out.append([types[i] for i in chunk.ids[position : position + length].tolist()])
        position += length
    return out


def random_texts(rng: random.Random) -> list[str]:
    return [
        "".join(rng.choice(POOL) for _ in range(rng.randint(0, 30)))
        for _ in range(rng.randint(1, 20))
    ]


@pytest.mark.parametrize("kind", ["whitespace", "word"])
@pytest.mark.parametrize("lowercase", [False, True])
def test_random_text_gives_the_tokenizers_tokens(kind, lowercase):
    tokenizer = WordTokenizer(lowercase) if kind == "word" else Tokenizer(lowercase)
    rng = random.Random(0)
    for _ in range(150):
        texts = random_texts(rng)
        chunk = vector_tokenize.tokenize_texts(kind, lowercase, texts)
        assert chunk is not None
        assert tokens_of(chunk) == tokenizer.encode_all(texts)
        if kind == "whitespace":  # (a word type may repeat where the text holds the joiner)
            assert len(set(chunk.types)) == len(chunk.types)


@pytest.mark.parametrize("corpus", ["multi30k", "sentiment_uci"])
@pytest.mark.parametrize("kind", ["whitespace", "word"])
def test_real_corpora_give_the_tokenizers_tokens(corpus, kind):
    lines = (DATA / corpus / "train.tsv").read_text(encoding="utf-8").splitlines()[:3000]
    texts = [part for line in lines for part in line.split("\t")]
    chunk = vector_tokenize.tokenize_texts(kind, True, texts)
    assert chunk is not None
    assert tokens_of(chunk) == (
        WordTokenizer(True) if kind == "word" else Tokenizer(True)
    ).encode_all(texts)


def test_every_byte_of_a_character_has_its_class():
    """Classes found on UTF-8 bytes equal Python's own isspace / isalnum per character, for
    every character of the Basic Multilingual Plane (lone surrogates included) and some
    beyond it; continuation bytes are marked."""
    chars = [chr(c) for c in range(0x10000)] + ["𝐀", "😀", "\U000e0100", "\U0010ffff"]
    utf8 = "".join(chars).encode("utf-8", "surrogatepass")
    classes, continuation = vector_tokenize._byte_classes(np.frombuffer(utf8, dtype=np.uint8))
    expected, leads = [], []
    for char in chars:
        size = len(char.encode("utf-8", "surrogatepass"))
        expected += [vector_tokenize._class_of(char)] * size
        leads += [True] + [False] * (size - 1)
    assert classes.tolist() == expected
    assert (~continuation).tolist() == leads


def test_flagged_texts_are_those_holding_the_characters():
    texts = ["a b", "a\x0bb", "plain", "x\x85", "\x0b"]
    chunk = vector_tokenize.tokenize_texts("whitespace", False, texts, "\x0b\x85")
    assert chunk is not None
    assert chunk.flagged.tolist() == [1, 3, 4]
    assert tokenize_text_by_text("whitespace", False, texts, "\x0b\x85").flagged.tolist() == [
        1,
        3,
        4,
    ]


def test_a_text_holding_a_newline_is_tokenized_text_by_text():
    texts = ["one two", "three\nfour", "five"]
    assert vector_tokenize.tokenize_texts("whitespace", False, texts) is None
    chunk = tokenize_chunk("whitespace", False, texts)
    assert tokens_of(chunk) == [["one", "two"], ["three", "four"], ["five"]]


def test_types_under_one_first_hash_are_told_apart_by_the_second(monkeypatch):
    real = vector_tokenize._hashes

    def colliding(*args):
        first, second = real(*args)
        return np.zeros_like(first), second  # every token under one first hash

    monkeypatch.setattr(vector_tokenize, "_hashes", colliding)
    texts = ["the cat", "the dog", "a cat"]
    chunk = vector_tokenize.tokenize_texts("whitespace", False, texts)
    assert chunk is not None
    assert tokens_of(chunk) == [t.split() for t in texts]
    assert sorted(chunk.types) == ["a", "cat", "dog", "the"]


def test_type_table_numbers_keys_across_batches_and_growth():
    rng = np.random.default_rng(0)
    table = vector_tokenize.TypeTable(capacity=16)
    seen: dict[int, int] = {}
    for _ in range(5):  # the table grows several times; ids stay
        first = rng.integers(0, 3000, 2000).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        second = first ^ np.uint64(1)
        before = len(table)
        ids, examples = table.add(first, second)
        assert len(examples) == len(table) - before
        assert np.array_equal(ids[examples], np.arange(before, len(table)))
        for key, id_ in zip(first.tolist(), ids.tolist(), strict=True):
            assert seen.setdefault(key, id_) == id_
    assert len(table) == len(seen)


def test_lookup_finds_the_ids_of_added_keys_and_nothing_else():
    rng = np.random.default_rng(1)
    table = vector_tokenize.TypeTable(capacity=16)
    first = rng.integers(1, 2**63, 5000, dtype=np.int64).astype(np.uint64)
    first[100:200] = first[:100] | np.uint64(1)  # runs of equal home slots: long probes
    second = first * np.uint64(3)
    ids, _ = table.add(first[:3000], second[:3000])
    assert np.array_equal(table.lookup(first[:3000], second[:3000]), ids)
    assert (table.lookup(first[3000:], second[3000:]) == -1).all()
    assert (table.lookup(first[:3000], second[:3000] + np.uint64(1)) == -1).all()


@pytest.mark.parametrize("compiled", [True, False])
def test_lookup_beside_a_thread_that_adds_never_gives_a_wrong_id(compiled, monkeypatch):
    """Readers may miss keys being added (growth included), never give another key's id: with
    the compiled adds and with numpy's. After each batch the adder waits for a read to end,
    so reads fall between and during the adds however quick they are."""
    if not compiled:
        monkeypatch.setattr(kernels, "compiled", None)
    elif kernels.compiled is None:
        pytest.skip("the compiled kernels are not built")
    rng = np.random.default_rng(2)
    first = rng.integers(1, 2**63, 60_000, dtype=np.int64).astype(np.uint64)
    second = first ^ np.uint64(0x5555)
    table = vector_tokenize.TypeTable(capacity=16)
    results = []
    added = threading.Event()

    def read() -> None:  # as long as the other thread adds
        while not added.is_set():
            results.append(table.lookup(first, second))

    reader = threading.Thread(target=read)
    reader.start()
    for start in range(0, len(first), 3000):  # ids are positions: the keys are distinct
        table.add(first[start : start + 3000], second[start : start + 3000])
        reads, deadline = len(results), time.monotonic() + 5
        while len(results) == reads and time.monotonic() < deadline:
            time.sleep(0.0005)
    added.set()
    reader.join()
    assert results and not all((ids == -1).all() for ids in results)  # read while adding
    positions = np.arange(len(first))
    for ids in results:
        assert ((ids == -1) | (ids == positions)).all()
    assert np.array_equal(table.lookup(first, second), positions)


def test_long_tokens_are_hashed_to_their_last_character():
    """Tokens that differ only after their first 8 (or 16, 24) bytes are different types."""
    base = "x" * 30
    texts = [base + "a", base + "b", base[:9] + "a", base[:9] + "b", base + "a"]
    chunk = vector_tokenize.tokenize_texts("whitespace", False, texts)
    assert chunk is not None
    assert len(chunk.types) == 4
    assert tokens_of(chunk) == [[t] for t in texts]


@pytest.mark.parametrize(
    "flags",
    ["", "1", "0", "111", "000", "0110", "1001", "10101", "0011100111", "1100"],
)
def test_runs_are_the_stretches_of_set_entries(flags):
    inside = np.array([c == "1" for c in flags], dtype=bool)
    starts, ends = vector_tokenize._runs(inside)
    expected = [(m.start(), m.end()) for m in re.finditer("1+", flags)]
    assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == expected
