"""Ragged segments of flat arrays (a text's tokens, a word's pieces), and byte strings read
8 bytes at a time from any offset."""

from __future__ import annotations

import numpy as np


def segment_positions(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Positions ``starts[i], ..., starts[i] + sizes[i] - 1`` of every segment i, one after
    another: the index that gathers ragged segments into one flat array (int64)."""
    ends = np.cumsum(sizes)
    total = int(ends[-1]) if len(ends) else 0
    return np.repeat(starts - (ends - sizes), sizes) + np.arange(total)


def words_at_every_byte(data: bytes, byteorder: str) -> np.ndarray:
    """The 8 bytes from every offset of ``data`` (up to ``len(data) - 8``) as one unsigned
    number each, ``byteorder`` "<" (little-endian) or ">" (big-endian): an unaligned view,
    no copy. Pad ``data`` with 8 zero bytes to read every token through its end."""
    return np.ndarray((len(data) - 7,), dtype=f"{byteorder}u8", buffer=data, strides=(1,))
