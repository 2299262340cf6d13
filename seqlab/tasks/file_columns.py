"""The two columns of a ``source<TAB>target`` file's bytes as sequences of texts that are
decoded only when indexed.

Sentencepiece learns its pieces from an evenly spaced sample of the training texts
(``texts[::step]``, at most SENTENCEPIECE_MAX_SENTENCES of them); reading a million-line file
into two million strings for that sample would cost as much as the rest of the first run's
reading. A :class:`FileColumn` gives the sample's texts exactly as the file's columns hold them
(seqlab.tasks.tsv.read_tsv_columns), from the bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import overload

import numpy as np

LINE_SCAN_BYTES = 1 << 24  # the newline search runs over blocks of this size


def _byte_positions(raw: bytes, byte: int) -> np.ndarray:
    """Where ``byte`` is in ``raw`` (int64), found a block at a time (no byte-sized array of
    the whole file)."""
    units = np.frombuffer(raw, dtype=np.uint8)
    found = [
        np.flatnonzero(units[start : start + LINE_SCAN_BYTES] == byte) + start
        for start in range(0, len(units), LINE_SCAN_BYTES)
    ]
    return np.concatenate([np.zeros(0, dtype=np.int64), *found]).astype(np.int64)


def line_starts(raw: bytes) -> np.ndarray:
    """Where each line of ``raw`` starts, and ``len(raw)`` last (int64); ``raw`` ends with a
    newline."""
    return np.concatenate([[0], _byte_positions(raw, 10) + 1])  # the last is len(raw)


def tab_positions(raw: bytes) -> np.ndarray:
    """Where the tabs of ``raw`` are (int64): one per line in a file of plain pairs."""
    return _byte_positions(raw, 9)


class FileColumn(Sequence[str]):
    """Texts of ``source<TAB>target`` lines held as bytes (every line one tab, valid UTF-8:
    checked by the caller), decoded when indexed. ``sides`` (0: sources, 1: targets) lists
    whole columns one after another: ``sources + targets`` is ``FileColumn(.., (0, 1))``.
    ``starts``: :func:`line_starts` of ``raw``; ``tabs``: its :func:`tab_positions` (found
    when first needed if not given). A slice's texts are decoded at once."""

    def __init__(
        self,
        raw: bytes,
        starts: np.ndarray,
        sides: tuple[int, ...],
        tabs: np.ndarray | None = None,
    ) -> None:
        self.raw, self.starts, self.sides = raw, starts, sides
        self.lines = len(starts) - 1
        if tabs is not None:
            self.tabs = tabs

    def __len__(self) -> int:
        return self.lines * len(self.sides)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return self._texts(np.arange(len(self))[index])
        if not -len(self) <= index < len(self):
            raise IndexError(f"text {index} of {len(self)}")
        return self._texts(np.array([index % len(self)]))[0]

    def _texts(self, indices: np.ndarray) -> list[str]:
        """The texts at these indices: their bytes (the target's without the line's trailing
        carriage returns) joined by newlines, which no text holds, and decoded at once."""
        if not len(indices):
            return []
        target = np.asarray(self.sides, dtype=bool)[indices // self.lines]
        lines = indices % self.lines
        tabs = self.tabs[lines]
        begins = np.where(target, tabs + 1, self.starts[lines]).tolist()
        ends = np.where(target, self.starts[lines + 1] - 1, tabs).tolist()
        raw = self.raw
        parts = [
            raw[b:e].rstrip(b"\r") if is_target else raw[b:e]
            for is_target, b, e in zip(target.tolist(), begins, ends, strict=True)
        ]
        return b"\n".join(parts).decode("utf-8").split("\n")

    @functools.cached_property
    def tabs(self) -> np.ndarray:
        """Where each line's one tab is (int64)."""
        return tab_positions(self.raw)

    def __add__(self, other: FileColumn) -> FileColumn:  # type: ignore[override]
        if other.raw is not self.raw:
            raise ValueError("only columns of the same file can be joined")
        return FileColumn(self.raw, self.starts, self.sides + other.sides, self.tabs)


def file_columns(raw: bytes) -> tuple[FileColumn, FileColumn]:
    """The sources and the targets of the lines of ``raw`` (ending with a newline)."""
    starts, tabs = line_starts(raw), tab_positions(raw)
    return FileColumn(raw, starts, (0,), tabs), FileColumn(raw, starts, (1,), tabs)
