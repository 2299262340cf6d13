"""Your own parallel data: source<TAB>target files, read with file and line in errors, a
header line skipped when it names the columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqlab.data.files import read_data_lines
from seqlab.data.parallel_files import names_the_columns, read_tsv_columns, read_tsv_pairs
from seqlab.errors import DataFileError


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
        ("a\tb\tc\n", r"a.tsv:1: 3 tab-separated columns.*cut -f1,2 a.tsv > a.2col.tsv"),
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
        b"en\tde\na cat\teine Katze\n",  # a header
        b"en\tde\n\na cat\teine Katze\n",  # a header, then a blank line: line by line
        b"en\tde\n",  # a header alone: one pair
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


def test_a_missing_file_is_named(tmp_path: Path):
    with pytest.raises(DataFileError, match="nope.tsv does not exist"):
        read_tsv_pairs(tmp_path / "nope.tsv")


def test_windows_line_ends_and_a_byte_order_mark_are_read_as_text(tmp_path: Path):
    path = tmp_path / "crlf.tsv"
    path.write_bytes(b"\xef\xbb\xbfthe dog\tle chien\r\n\r\na cat\tun chat\r\n")
    assert read_tsv_pairs(path) == [("the dog", "le chien"), ("a cat", "un chat")]


def test_invalid_utf8_names_file_and_line(tmp_path: Path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("the dog\tle chien\ncafé\tcafé\n".encode("latin-1"))
    with pytest.raises(DataFileError, match=r"latin1.tsv:2: not valid UTF-8 .* byte 4 of the line"):
        read_data_lines(path, "source<TAB>target")


SENTENCES = ["the dog runs .\tder Hund rennt .", "a cat\teine Katze", "two men .\tzwei Männer ."]


@pytest.mark.parametrize(
    ("first", "is_header"),
    [
        ("en\tde", True),
        ("source\ttarget", True),
        ("english_text\tgerman-text", True),
        ("Go.\tVa !", False),  # punctuation: a sentence pair
        ("the cat\tdie Katze", False),  # more than one word a side
        ("mouse\tMaus", True),  # neither word on another line: read as names
        ("dog\tKatze", False),  # "dog" is a word of the source column
        ("a\tKatze", False),  # "a" too
        ("2\t3", False),  # numbers name no column
    ],
)
def test_the_first_line_names_the_columns(first: str, is_header: bool):
    sources, targets = zip(*(line.split("\t") for line in [first, *SENTENCES]), strict=True)
    assert names_the_columns(list(sources), list(targets)) is is_header


def test_a_word_list_has_no_header():
    """In a file of one-word pairs, a first pair of unique words is a word like the others."""
    words = [("Hund", "dog"), ("Katze", "cat"), ("Maus", "mouse"), ("Haus", "house")]
    assert not names_the_columns([s for s, _ in words], [t for _, t in words])
    assert names_the_columns(["de", "der Hund", "die Katze"], ["en", "the dog", "the cat"])


def test_a_file_of_one_line_has_no_header():
    assert not names_the_columns(["en"], ["de"])


@pytest.mark.parametrize("reader", [read_tsv_pairs, read_tsv_columns])
def test_a_header_is_skipped_and_said_so(tmp_path: Path, reader, capsys):
    path = _write(tmp_path / "p.tsv", "\n".join(["en\tde", *SENTENCES]) + "\n")
    read = reader(path)
    pairs = list(zip(*read, strict=True)) if reader is read_tsv_columns else read
    assert pairs == [tuple(line.split("\t")) for line in SENTENCES]
    assert "p.tsv:1 read as column names ('en', 'de') and skipped" in capsys.readouterr().out
    assert len(reader(path, header=False)[0 if reader is read_tsv_columns else slice(None)]) == 4
    forced = _write(tmp_path / "q.tsv", "\n".join(SENTENCES) + "\n")
    assert len(read_tsv_pairs(forced, header=True)) == 2
    assert capsys.readouterr().out == ""


def test_a_header_alone_is_an_empty_file(tmp_path: Path):
    path = _write(tmp_path / "h.tsv", "en\tde\n")
    for reader in (read_tsv_pairs, read_tsv_columns):
        with pytest.raises(DataFileError, match="holds no sentence pairs"):
            reader(path, header=True)
