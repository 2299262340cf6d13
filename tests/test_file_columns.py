"""The columns of a tsv file's bytes, decoded only where indexed, give what the file's
columns give (the sample sentencepiece learns from)."""

from __future__ import annotations

import pytest

from seqlab.tasks import file_columns as columns_module
from seqlab.tasks.file_columns import FileColumn, file_columns, line_starts
from seqlab.tasks.tsv import read_tsv_columns

LINES = [
    "a b\tc",
    "Été  !\tsummer\r",
    "x\ty z\r\r",
    "\u3000q\tr ",
    "long line here\tend",
    "in\rside\tcarriage\rreturns\r",
    "\u0085nel\t\x0bvt\x1c",
]


def test_line_starts_are_found_across_blocks(monkeypatch):
    raw = "\n".join(LINES * 7).encode() + b"\n"
    expected = [0] + [i + 1 for i, byte in enumerate(raw) if byte == 10]
    assert line_starts(raw).tolist() == expected
    monkeypatch.setattr(columns_module, "LINE_SCAN_BYTES", 5)
    assert line_starts(raw).tolist() == expected


@pytest.mark.parametrize("step", [1, 2, 3, 7, 100])
def test_slices_are_the_files_columns(tmp_path, step):
    raw = "\n".join(LINES * 9).encode() + b"\n"
    path = tmp_path / "train.tsv"
    path.write_bytes(raw)
    sources, targets = read_tsv_columns(path)
    lazy_sources, lazy_targets = file_columns(raw)
    assert (len(lazy_sources), len(lazy_targets)) == (len(sources), len(targets))
    assert lazy_sources[::step] == sources[::step]
    assert lazy_targets[1::step] == targets[1::step]
    assert (lazy_sources + lazy_targets)[::step] == (sources + targets)[::step]
    assert lazy_targets[-1] == targets[-1] and lazy_sources[3] == sources[3]


def test_indexing_outside_or_joining_other_files_is_refused():
    sources, _ = file_columns(b"a\tb\n")
    with pytest.raises(IndexError):
        sources[1]
    with pytest.raises(ValueError, match="same file"):
        sources + FileColumn(b"c\td\n", line_starts(b"c\td\n"), (1,))
