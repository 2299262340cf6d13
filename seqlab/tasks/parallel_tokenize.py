"""Tokenize many lines, a chunk at a time, in worker threads when the corpus is large.

Each chunk of lines is tokenized (whitespace or word tokenizer) into ids that are local to
the chunk, with the chunk's token types and their keys; the caller merges the chunks' types
by their keys (seqlab.tasks.flat_encoding). A chunk is tokenized in array operations
(seqlab.tasks.vector_tokenize), or text by text where those decline it. The array operations
release Python's lock, so chunks go to ``workers`` threads (no copy of the texts, no
pickling) and come back in order: the result is the same as in one thread.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from seqlab.tasks.tokenizers import Tokenizer, WordTokenizer
from seqlab.tasks.vector_tokenize import TokenizedChunk, chunk_of_token_lists, tokenize_texts

CHUNK = 20_000  # lines per chunk: bounded memory, and enough work per message to a worker
PARALLEL_FROM = 100_000  # lines: below this, one thread is as quick


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
    texts: list[str], tokenizer: Tokenizer, workers: int | None = None, flag_chars: str = ""
) -> Iterator[TokenizedChunk]:
    """The chunks of ``texts`` (CHUNK lines each) tokenized by ``tokenizer`` (whitespace or
    word), in order; in ``workers`` threads (default: one per CPU) when there are
    PARALLEL_FROM lines or more, at most ``2 * workers`` chunks ahead of the caller."""
    kind, lowercase = tokenizer.kind, tokenizer.lowercase
    jobs = (
        (kind, lowercase, texts[start : start + CHUNK], flag_chars)
        for start in range(0, len(texts), CHUNK)
    )
    workers = default_workers() if workers is None else workers
    if workers <= 1 or len(texts) < PARALLEL_FROM:
        for job in jobs:
            yield tokenize_chunk(*job)
        return
    with ThreadPoolExecutor(workers) as pool:
        pending = [pool.submit(tokenize_chunk, *job) for job in itertools.islice(jobs, 2 * workers)]
        while pending:
            chunk = pending.pop(0).result()
            pending += [pool.submit(tokenize_chunk, *job) for job in itertools.islice(jobs, 1)]
            yield chunk
