"""Ragged segment positions."""

from __future__ import annotations

import numpy as np

from seqlab.tasks.segments import segment_positions


def test_segments_are_gathered_one_after_another():
    positions = segment_positions(np.array([5, 0, 9, 2]), np.array([2, 0, 3, 1]))
    assert positions.tolist() == [5, 6, 9, 10, 11, 2]
    assert segment_positions(np.zeros(0, np.int64), np.zeros(0, np.int64)).tolist() == []
