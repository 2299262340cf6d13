"""The compiled token kernels (seqlab/tasks/_token_kernel.c) give what the numpy code gives
(and what the tokenizers' own ``encode`` gives, text by text): keys, chunk-local types, the
type table, the tsv pairs of both tokenizers, and the expansion of words into pieces. Each
test runs the kernel and the numpy code side by side."""

from __future__ import annotations

import os
import random
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest

from seqlab.tasks import flat_encoding, kernels, vector_tokenize
from seqlab.tasks.tokenizers import Tokenizer, WordTokenizer
from tests.test_vector_tokenize import POOL, tokens_of

KERNEL = kernels.compiled
needs_kernel = pytest.mark.skipif(KERNEL is None, reason="the compiled kernels are not built")


def test_the_kernels_are_built_where_ci_builds_seqlab():
    """CI installs seqlab with a C compiler: the kernels must be there (elsewhere, seqlab runs
    on its numpy code, and the other tests here are skipped)."""
    if not os.environ.get("CI"):
        pytest.skip("outside CI, a missing compiler only means the numpy code runs")
    assert KERNEL is not None, "seqlab/tasks/_token_kernel.c was not built by setup.py"


@pytest.fixture
def numpy_only(monkeypatch):
    """A context in which the numpy code runs, as where the kernels are not built."""

    class Switch:
        def __enter__(self):
            monkeypatch.setattr(kernels, "compiled", None)

        def __exit__(self, *exc):
            monkeypatch.setattr(kernels, "compiled", KERNEL)

    return Switch()


def by_type(chunk: vector_tokenize.TokenizedChunk) -> Counter:
    """Tokens per type string (the chunk's local numbering left aside; a joiner written in the
    text itself can spell one string under two keys)."""
    counts: Counter = Counter()
    for word, n in zip(chunk.types, chunk.type_counts().tolist(), strict=True):
        counts[word] += n
    return counts


PAIR_POOL = [c for c in POOL if c not in ("\t",)] + ["\x85", "\u2028", "\u2009", "\r", "\x0b"]


def random_pairs(rng: random.Random, broken: bool) -> bytes:
    lines = []
    for _ in range(rng.randint(1, 12)):
        sides = ["".join(rng.choice(PAIR_POOL) for _ in range(rng.randint(0, 25))) for _ in "st"]
        line = "\t".join(sides)
        if broken and rng.random() < 0.2:
            line = rng.choice([sides[0], line + "\t", "\t" + line, " \t" + sides[1]])
        lines.append(line + "\n")
    return "".join(lines).encode("utf-8", "surrogatepass")


@needs_kernel
@pytest.mark.parametrize("kind", ["whitespace", "word"])
@pytest.mark.parametrize("lowercase", [False, True])
def test_pairs_by_the_kernel_equal_the_numpy_code_and_the_tokenizer(kind, lowercase, numpy_only):
    tokenizer = WordTokenizer(lowercase) if kind == "word" else Tokenizer(lowercase)
    rng = random.Random(1)
    declined = accepted = 0
    for round_ in range(400):
        raw = random_pairs(rng, broken=round_ % 2 == 1)
        compiled = vector_tokenize.tokenize_pairs(kind, lowercase, raw)
        with numpy_only:
            expected = vector_tokenize.tokenize_pairs(kind, lowercase, raw)
        assert (compiled is None) == (expected is None), raw
        if compiled is None:
            declined += 1
            continue
        accepted += 1
        lines = raw.decode().split("\n")[:-1]
        for side, (ours, theirs) in enumerate(zip(compiled, expected, strict=True)):
            texts = [line.split("\t")[side] for line in lines]
            assert tokens_of(ours) == tokens_of(theirs) == tokenizer.encode_all(texts), raw
            assert by_type(ours) == by_type(theirs)
            assert ours.lengths.tolist() == theirs.lengths.tolist()
            assert np.array_equal(np.sort(ours.first), np.sort(theirs.first))
    assert declined > 50 and accepted > 150  # both outcomes were exercised


def every_code_point_line(code: int, kind: str) -> str:
    char = chr(code)
    return f"a{char}b {char}\tz{char}\n" if kind == "whitespace" else f"a{char}b {char}x\tz\n"


@needs_kernel
@pytest.mark.parametrize("kind", ["whitespace", "word"])
def test_every_code_point_splits_as_the_tokenizer_splits(kind):
    """Whitespace and word classes of every code point of the Basic Multilingual Plane (less
    surrogates, tab and newline) and some beyond, inside and between tokens."""
    codes = [c for c in range(0x10000) if c not in (9, 10) and not 0xD800 <= c < 0xE000]
    tokenizer = WordTokenizer() if kind == "word" else Tokenizer()
    lines = [every_code_point_line(c, kind) for c in codes]
    sides = vector_tokenize._kernel_pairs(kind, "".join(lines).encode())
    assert sides not in (None, False)
    texts = [line.split("\t") for line in lines]
    for side, chunk in enumerate(sides):
        assert tokens_of(chunk) == tokenizer.encode_all(t[side].rstrip("\n") for t in texts)


@needs_kernel
def test_a_character_beyond_the_bmp_is_left_to_the_numpy_code(numpy_only):
    raw = "a 😀-b\tc𝐀d.\nx\ty\n".encode()
    assert vector_tokenize._kernel_pairs("word", raw) is False
    source, target = vector_tokenize.tokenize_pairs("word", False, raw)
    tokenizer = WordTokenizer()
    assert tokens_of(source) == tokenizer.encode_all(["a 😀-b", "x"])
    assert tokens_of(target) == tokenizer.encode_all(["c𝐀d.", "y"]) == [["c𝐀d", "￭."], ["y"]]
    assert vector_tokenize._kernel_pairs("whitespace", raw) not in (None, False)


@needs_kernel
def test_token_keys_equal_the_numpy_hashes():
    rng = np.random.default_rng(0)
    utf8 = rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()
    starts = rng.integers(0, 5000, 3000)
    ends = np.minimum(starts + rng.integers(0, 40, 3000), 5000)  # tokens at the very end too
    ends[:10], starts[:10] = 5000, 5000 - np.arange(10)
    salt = rng.integers(0, 4, 3000).astype(np.uint8)
    first, second = vector_tokenize._hashes(utf8, starts, ends, salt)
    expected = vector_tokenize._numpy_hashes(utf8, starts, ends - starts, salt)
    assert np.array_equal(first, expected[0]) and np.array_equal(second, expected[1])
    with pytest.raises(ValueError, match="outside the text"):
        vector_tokenize._hashes(utf8, np.array([4990]), np.array([5001]), np.zeros(1, np.uint8))


@needs_kernel
def test_factorize_gives_the_numpy_partition_in_first_occurrence_order():
    rng = np.random.default_rng(2)
    first = rng.integers(0, 300, 20000).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    second = first ^ rng.integers(0, 2, 20000).astype(np.uint64)  # two keys per first hash
    first[:5000] = np.uint64(7)  # one long probe chain: keys told apart by the second hash
    ids, examples, counts = vector_tokenize.factorize(first, second)
    numpy_ids, numpy_examples = vector_tokenize._numpy_factorize(first, second)
    pairs = set(zip(ids.tolist(), numpy_ids.tolist(), strict=True))
    assert len(pairs) == len(examples) == len(numpy_examples)  # the same partition
    assert np.array_equal(ids[examples], np.arange(len(examples)))
    assert np.all(np.diff(examples) > 0)  # ids in the order keys first occur
    assert np.array_equal(counts, np.bincount(ids))


@needs_kernel
def test_type_table_add_by_the_kernel_equals_the_numpy_table(numpy_only):
    rng = np.random.default_rng(3)
    tables = vector_tokenize.TypeTable(16), vector_tokenize.TypeTable(16)
    for batch in range(6):  # growth, known and new keys, repeats within a batch
        first = rng.integers(0, 5000, 3000).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        first[:50] |= np.uint64(1)  # equal home slots: probes
        second = first * np.uint64(3)
        ids, examples = tables[0].add(first, second)
        with numpy_only:
            numpy_ids, numpy_examples = tables[1].add(first, second)
        assert len(examples) == len(numpy_examples), batch
        pairs = set(zip(ids.tolist(), numpy_ids.tolist(), strict=True))
        assert len(pairs) == len(set(ids.tolist()))  # the same partition
        assert np.array_equal(tables[0].lookup(first, second), ids)
        assert len(tables[0]) == len(tables[1])


@needs_kernel
def test_type_table_add_refuses_a_table_too_full():
    table = vector_tokenize.TypeTable(16)
    keys = np.arange(1, 2000, dtype=np.uint64)
    ids, examples = np.empty(len(keys), np.int64), np.empty(len(keys), np.int64)
    with pytest.raises(ValueError, match="half full"):
        KERNEL.type_table_add(table.slots, 0, keys, keys, ids, examples)


class RandomPieces:
    """Stands in for a SentencePieceTokenizer: words of 0 to 4 random pieces each."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def encode_words(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        counts = self.rng.integers(0, 5, len(words)).astype(np.int64)
        return self.rng.integers(0, 900, int(counts.sum())).astype(np.int32), counts


@needs_kernel
@pytest.mark.parametrize("mapped", [True, False])
def test_expanding_words_into_pieces_equals_the_numpy_code(mapped, numpy_only):
    """Words added in two batches (the texts path adds a chunk's new words at a time), texts
    expanded into sentencepiece's own ids or through a vocabulary's table."""
    rng = np.random.default_rng(4)
    pieces = flat_encoding._WordPieces(RandomPieces(rng))
    pieces.add(["w"] * 300)
    pieces.add(["w"] * 400)
    words = rng.integers(0, 700, 10_000).astype(np.int32)
    offsets = np.concatenate([[0], np.sort(rng.integers(0, 10_000, 999)), [10_000]])
    table = rng.permutation(1000).astype(np.int32) if mapped else None
    if not mapped:  # sentencepiece's own ids: as many as the model has
        pieces.tokenizer.processor = SimpleNamespace(get_piece_size=lambda: 900)
    ids, piece_offsets = flat_encoding._expand_texts(words, offsets, pieces, table)
    with numpy_only:
        expected = flat_encoding._expand_texts(words, offsets, pieces, table)
    assert np.array_equal(ids, expected[0]) and np.array_equal(piece_offsets, expected[1])
    assert len(ids) > len(words) // 2


@needs_kernel
def test_expanding_refuses_word_indices_out_of_range():
    counts = np.ones(3, np.int64)
    entries = np.stack([np.arange(3), counts], axis=1)
    out = np.empty(2, np.int32)
    pieces = np.arange(3, dtype=np.int32)
    with pytest.raises(ValueError, match="out of range"):
        KERNEL.expand_pieces(np.array([0, 3], np.int32), entries, pieces, pieces, out)
    with pytest.raises(ValueError, match="out of range"):  # a piece beyond the table
        KERNEL.expand_pieces(np.array([0, 2], np.int32), entries, pieces, pieces[:2], out)
    with pytest.raises(ValueError, match="out of range"):
        KERNEL.piece_offsets(
            np.array([0, 5], np.int32), np.array([0, 2]), counts, np.empty(2, np.int64)
        )
