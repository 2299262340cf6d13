"""Ragged segment positions."""

from __future__ import annotations

import numpy as np

from seqlab.tasks.segments import segment_positions, words_at_every_byte


def test_segments_are_gathered_one_after_another():
    positions = segment_positions(np.array([5, 0, 9, 2]), np.array([2, 0, 3, 1]))
    assert positions.tolist() == [5, 6, 9, 10, 11, 2]
    assert segment_positions(np.zeros(0, np.int64), np.zeros(0, np.int64)).tolist() == []


def test_words_at_every_byte_read_8_bytes_from_any_offset():
    data = bytes(range(1, 20)) + bytes(8)
    little, big = words_at_every_byte(data, "<"), words_at_every_byte(data, ">")
    assert len(little) == len(data) - 7
    for at in (0, 3, 11, 19):
        assert int(little[at]) == int.from_bytes(data[at : at + 8], "little")
        assert int(big[at]) == int.from_bytes(data[at : at + 8], "big")
