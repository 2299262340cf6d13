"""Your own parallel data: source<TAB>target files, read with file and line in errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqlab.data.files import read_data_lines, read_tsv_columns, read_tsv_pairs
from seqlab.errors import ConfigError, DataFileError
from seqlab.tasks.tsv import TsvConfig, TsvTranslationDataModule


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_tsv_reads_pairs_as_they_are(tmp_path: Path):
    f = _write(tmp_path / "a.tsv", "The Dog.\tLe  Chien.\n\nA cat\tUn chat\n")
    assert read_tsv_pairs(f) == [("The Dog.", "Le  Chien."), ("A cat", "Un chat")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("the dog\tle chien\nno tab here\n", r"a.tsv:2: no tab in this line"),
        ("", "holds no sentence pairs"),
        ("a\tb\tc\n", r"a.tsv:1: 3 tab-separated columns"),
        ("\tle chien\n", r"a.tsv:1: the source side is empty"),
    ],
)
def test_tsv_malformed_files_name_file_and_line(tmp_path: Path, text: str, message: str):
    with pytest.raises(DataFileError, match=message):
        read_tsv_pairs(_write(tmp_path / "a.tsv", text))


@pytest.mark.parametrize(
    "raw",
    [
        b"a b\tc d\nx\ty\n",  # well formed: read in a few passes over the whole text
        b"a b\tc d\nx\ty",  # no final line end
        b"\xef\xbb\xbfa b\tc d\r\nx\ty\r\r\n",  # byte-order mark, CRLF, a stray CR
        b"a b\tc d\n\n  \nx\ty\n\n",  # blank lines: line by line
        b"a\tb\n  \t c\n",  # a blank side: line by line, for the message
        b"a\tb\tc\nd\n",  # tabs in the wrong lines, right in number: line by line
    ],
)
def test_columns_are_the_pairs_read_line_by_line(tmp_path: Path, raw: bytes):
    path = tmp_path / "f.tsv"
    path.write_bytes(raw)
    try:
        pairs = read_tsv_pairs(path)
    except DataFileError as error:
        with pytest.raises(DataFileError) as caught:
            read_tsv_columns(path)
        assert str(caught.value) == str(error)
        return
    assert read_tsv_columns(path) == ([s for s, _ in pairs], [t for _, t in pairs])


def test_tsv_missing_file(tmp_path: Path):
    with pytest.raises(DataFileError, match="does not exist"):
        read_tsv_pairs(tmp_path / "nope.tsv")
    good = str(_write(tmp_path / "t.tsv", "a b\tc d\n"))
    config = TsvConfig(train_path=good, valid_path=str(tmp_path / "missing.tsv"), test_path=good)
    with pytest.raises(DataFileError, match="missing.tsv does not exist"):
        TsvTranslationDataModule(config).setup()


def test_windows_line_ends_and_a_byte_order_mark_are_read_as_text(tmp_path: Path):
    path = tmp_path / "crlf.tsv"
    path.write_bytes(b"\xef\xbb\xbfthe dog\tle chien\r\n\r\na cat\tun chat\r\n")
    assert read_tsv_pairs(path) == [("the dog", "le chien"), ("a cat", "un chat")]


def test_invalid_utf8_names_file_and_line(tmp_path: Path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("the dog\tle chien\ncafé\tcafé\n".encode("latin-1"))
    with pytest.raises(DataFileError, match=r"latin1.tsv:2: not valid UTF-8 .* byte 4 of the line"):
        read_data_lines(path, "source<TAB>target")


def test_paths_must_be_set():
    with pytest.raises(ConfigError, match="task.train_path is not set"):
        TsvConfig()
