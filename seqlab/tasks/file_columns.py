"""The two columns of a ``source<TAB>target`` file's bytes as sequences of texts that are
decoded only when indexed.

Sentencepiece learns its pieces from an evenly spaced sample of the training texts
(``texts[::step]``, at most SENTENCEPIECE_MAX_SENTENCES of them); reading a million-line file
into two million strings for that sample would cost as much as the rest of the first run's
reading. A :class:`FileColumn` gives the sample's texts exactly as the file's columns hold them
(seqlab.tasks.tsv.read_tsv_columns), from the bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import numpy as np

LINE_SCAN_BYTES = 1 << 24  # the newline search runs over blocks of this size


def line_starts(raw: bytes) -> np.ndarray:
    """Where each line of ``raw`` starts, and ``len(raw)`` last (int64); ``raw`` ends with a
    newline. Found a block at a time (no byte-sized array of the whole file)."""
    units = np.frombuffer(raw, dtype=np.uint8)
    ends = [
        np.flatnonzero(units[start : start + LINE_SCAN_BYTES] == 10) + start
        for start in range(0, len(units), LINE_SCAN_BYTES)
    ]
    newlines = np.concatenate([np.zeros(0, dtype=np.int64), *ends])
    return np.concatenate([[0], newlines + 1]).astype(np.int64)  # the last is len(raw)


class FileColumn(Sequence[str]):
    """Texts of ``source<TAB>target`` lines held as bytes (every line one tab, valid UTF-8:
    checked by the caller), decoded when indexed. ``sides`` (0: sources, 1: targets) lists
    whole columns one after another: ``sources + targets`` is ``FileColumn(.., (0, 1))``.
    ``starts``: :func:`line_starts` of ``raw``."""

    def __init__(self, raw: bytes, starts: np.ndarray, sides: tuple[int, ...]) -> None:
        self.raw, self.starts, self.sides = raw, starts, sides
        self.lines = len(starts) - 1

    def __len__(self) -> int:
        return self.lines * len(self.sides)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._text(i) for i in range(len(self))[index]]
        if not -len(self) <= index < len(self):
            raise IndexError(f"text {index} of {len(self)}")
        return self._text(index % len(self))

    def _text(self, index: int) -> str:
        side, line = self.sides[index // self.lines], index % self.lines
        start, end = int(self.starts[line]), int(self.starts[line + 1]) - 1  # without "\n"
        return self.raw[start:end].decode("utf-8").rstrip("\r").split("\t")[side]

    def __add__(self, other: FileColumn) -> FileColumn:  # type: ignore[override]
        if other.raw is not self.raw:
            raise ValueError("only columns of the same file can be joined")
        return FileColumn(self.raw, self.starts, self.sides + other.sides)


def file_columns(raw: bytes) -> tuple[FileColumn, FileColumn]:
    """The sources and the targets of the lines of ``raw`` (ending with a newline)."""
    starts = line_starts(raw)
    return FileColumn(raw, starts, (0,)), FileColumn(raw, starts, (1,))
