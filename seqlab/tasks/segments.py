"""Ragged segments of flat arrays (a text's tokens, a word's pieces)."""

from __future__ import annotations

import numpy as np


def segment_positions(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Positions ``starts[i], ..., starts[i] + sizes[i] - 1`` of every segment i, one after
    another: the index that gathers ragged segments into one flat array (int64)."""
    ends = np.cumsum(sizes)
    total = int(ends[-1]) if len(ends) else 0
    return np.repeat(starts - (ends - sizes), sizes) + np.arange(total)
