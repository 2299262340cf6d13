"""Tokenize many lines, a chunk at a time, in worker threads when the corpus is large.

Each chunk of lines is tokenized (whitespace or word tokenizer) into ids that are local to
the chunk, with the chunk's token types and their keys; the caller merges the chunks' types
by their keys (seqlab.tasks.flat_encoding). A chunk is tokenized in array operations
(seqlab.tasks.vector_tokenize), or text by text where those decline it. The array operations
release Python's lock, so chunks go to ``workers`` threads (no copy of the texts, no
pickling) and come back in order: the result is the same as in one thread. A tsv training
file can also be tokenized straight from its bytes, both sides of a chunk of lines at once
(:func:`tokenize_pair_chunks`).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from seqlab.tasks.tokenizers import Tokenizer, WordTokenizer
from seqlab.tasks.vector_tokenize import (
    TokenizedChunk,
    chunk_of_token_lists,
    tokenize_pairs,
    tokenize_texts,
)

CHUNK = 20_000  # lines per chunk: bounded memory, and enough work per message to a worker
PARALLEL_FROM = 100_000  # lines: below this, one thread is as quick
PAIR_CHUNK_BYTES = 1 << 23  # bytes of a tsv file per chunk (about 25,000 lines of 340 bytes)
Result = TypeVar("Result")


def tokenize_chunk(
    kind: str, lowercase: bool, texts: list[str], flag_chars: str = ""
) -> TokenizedChunk:
    """``texts`` tokenized (see TokenizedChunk), with the positions of the texts that hold any
    of ``flag_chars``."""
    fast = tokenize_texts(kind, lowercase, texts, flag_chars)
    if fast is not None:
        return fast
    return tokenize_text_by_text(kind, lowercase, texts, flag_chars)


def tokenize_text_by_text(
    kind: str, lowercase: bool, texts: list[str], flag_chars: str = ""
) -> TokenizedChunk:
    """As :func:`tokenize_chunk`, with the tokenizer's own ``encode`` on each text."""
    tokenizer = WordTokenizer(lowercase) if kind == "word" else Tokenizer(lowercase)
    flagged = [i for i, text in enumerate(texts) if any(c in text for c in flag_chars)]
    return chunk_of_token_lists(tokenizer.encode_all(texts), flagged)


def default_workers() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def tokenize_chunks(
    texts: list[str],
    tokenizer: Tokenizer,
    workers: int | None = None,
    flag_chars: str = "",
    look_up: Callable[[TokenizedChunk], np.ndarray] | None = None,
) -> Iterator[tuple[TokenizedChunk, np.ndarray | None]]:
    """The chunks of ``texts`` (CHUNK lines each) tokenized by ``tokenizer`` (whitespace or
    word), in order, each with ``look_up(chunk)`` (None without ``look_up``), computed in
    the same thread; in ``workers`` threads (default: one per CPU) when there are
    PARALLEL_FROM lines or more, at most ``2 * workers`` chunks ahead of the caller."""
    kind, lowercase = tokenizer.kind, tokenizer.lowercase
    jobs = (
        (kind, lowercase, texts[start : start + CHUNK], flag_chars, look_up)
        for start in range(0, len(texts), CHUNK)
    )
    yield from in_order(_tokenize_and_look_up, jobs, workers, len(texts) >= PARALLEL_FROM)


def _tokenize_and_look_up(
    kind: str,
    lowercase: bool,
    texts: list[str],
    flag_chars: str,
    look_up: Callable[[TokenizedChunk], np.ndarray] | None,
) -> tuple[TokenizedChunk, np.ndarray | None]:
    chunk = tokenize_chunk(kind, lowercase, texts, flag_chars)
    return chunk, None if look_up is None else look_up(chunk)


LookUp = Callable[[TokenizedChunk], np.ndarray]
Looked = tuple[TokenizedChunk, np.ndarray]


def pair_chunk_bounds(raw: bytes, size: int) -> list[tuple[int, int]]:
    """Byte ranges of whole lines, about ``size`` bytes each, covering ``raw`` (whose last
    line ends with a newline)."""
    bounds, start = [], 0
    while start < len(raw):
        end = raw.find(b"\n", min(start + size, len(raw)) - 1) + 1 or len(raw)
        bounds.append((start, end))
        start = end
    return bounds


def tokenize_pair_chunks(
    raw: bytes,
    tokenizer: Tokenizer,
    look_ups: tuple[LookUp, LookUp],
    workers: int | None = None,
) -> Iterator[tuple[Looked, Looked] | None]:
    """The lines of a ``source<TAB>target`` file's bytes (whole lines, the last one ending
    with a newline), a chunk of about PAIR_CHUNK_BYTES at a time, tokenized by ``tokenizer``
    (whitespace or word) without a string per line: for each chunk, the sources' and the
    targets' chunks, each with its side's ``look_ups`` (computed in the same thread). None
    for a chunk that :func:`tokenize_pairs` declines (the caller reads the file line by
    line). In ``workers`` threads, as :func:`tokenize_chunks`."""
    kind, lowercase = tokenizer.kind, tokenizer.lowercase
    jobs = (
        (kind, lowercase, raw[start:end], look_ups)
        for start, end in pair_chunk_bounds(raw, PAIR_CHUNK_BYTES)
    )
    yield from in_order(
        _tokenize_pairs_and_look_up, jobs, workers, len(raw) >= 2 * PAIR_CHUNK_BYTES
    )


def in_order(
    function: Callable[..., Result],
    jobs: Iterator[tuple],
    workers: int | None = None,
    parallel: bool = True,
) -> Iterator[Result]:
    """``function(*job)`` of each job, in order: in ``workers`` threads (default: one per
    CPU) when ``parallel``, at most ``2 * workers`` jobs ahead of the caller; else here."""
    workers = default_workers() if workers is None else workers
    if workers <= 1 or not parallel:
        for job in jobs:
            yield function(*job)
        return
    with ThreadPoolExecutor(workers) as pool:
        pending = [pool.submit(function, *job) for job in itertools.islice(jobs, 2 * workers)]
        while pending:
            done = pending.pop(0).result()
            pending += [pool.submit(function, *job) for job in itertools.islice(jobs, 1)]
            yield done


def _tokenize_pairs_and_look_up(
    kind: str, lowercase: bool, raw: bytes, look_ups: tuple[LookUp, LookUp]
) -> tuple[Looked, Looked] | None:
    sides = tokenize_pairs(kind, lowercase, raw)
    if sides is None:
        return None
    (source, target), (look_up_source, look_up_target) = sides, look_ups
    return (source, look_up_source(source)), (target, look_up_target(target))
