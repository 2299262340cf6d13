"""Tokenize many lines into flat id arrays, in worker processes when the corpus is large.

Each chunk of lines is tokenized (whitespace or word tokenizer) into ids that are local to
the chunk, with the chunk's token types in order of first appearance; the caller maps the
types to its own ids (provisional ids while the vocabulary is being counted, vocabulary ids
after). Chunks go to ``workers`` forked processes and come back in order, so the result is the
same as in one process. Fork, as torch's DataLoader workers use on Linux: a spawned worker
would re-import the entry point (torch and Lightning, seconds per worker); the workers run
pure Python and touch no torch state. Where fork is not available (Windows, macOS
defaults aside), tokenizing stays in-process.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import warnings
from array import array
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from seqlab.tasks.tokenizers import Tokenizer, WordTokenizer

CHUNK = 20_000  # lines per chunk: bounded memory, and enough work per message to a worker
PARALLEL_FROM = 200_000  # lines: below this, tokenizing in-process is quicker than starting workers

LocalChunk = tuple[array, array, list[str]]  # ids (int32, local), lengths (int64), types


def tokenize_chunk(kind: str, lowercase: bool, texts: list[str]) -> LocalChunk:
    """``texts`` tokenized: chunk-local ids of every token, tokens per text, and the types in
    order of first appearance (local id i is types[i])."""
    tokenizer = WordTokenizer(lowercase) if kind == "word" else Tokenizer(lowercase)
    local: defaultdict[str, int] = defaultdict(itertools.count().__next__)
    ids, lengths = array("i"), array("q")
    to_id = local.__getitem__
    for tokens in tokenizer.encode_all(texts):
        ids.extend(map(to_id, tokens))
        lengths.append(len(tokens))
    return ids, lengths, list(local)


def _chunk_job(job: tuple[str, bool, list[str]]) -> LocalChunk:
    return tokenize_chunk(*job)


def default_workers() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def tokenize_chunks(
    texts: list[str], tokenizer: Tokenizer, workers: int | None = None
) -> Iterator[LocalChunk]:
    """The chunks of ``texts`` tokenized by ``tokenizer`` (whitespace or word), in order; in
    ``workers`` processes (default: one per CPU) when there are PARALLEL_FROM lines or more."""
    jobs = (
        (tokenizer.kind, tokenizer.lowercase, texts[start : start + CHUNK])
        for start in range(0, len(texts), CHUNK)
    )
    workers = default_workers() if workers is None else workers
    forking = "fork" in multiprocessing.get_all_start_methods()
    if workers <= 1 or len(texts) < PARALLEL_FROM or not forking:
        yield from map(_chunk_job, jobs)
        return
    with warnings.catch_warnings():  # Python >= 3.12 warns about fork beside threads
        warnings.simplefilter("ignore", DeprecationWarning)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            yield from pool.map(_chunk_job, jobs)
