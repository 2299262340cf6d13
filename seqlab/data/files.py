"""Reading users' data files: UTF-8 text, one example per line, errors naming file and line."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from pathlib import Path

from seqlab.config.schema import TaskConfig
from seqlab.errors import ConfigError, DataFileError

# One example per line: a longer line is almost always a file whose line ends seqlab does not
# read as such (old Mac \r, none at all), and would make one giant example.
MAX_LINE_CHARS = 1_000_000


def read_data_bytes(path: str | Path, layout: str) -> tuple[Path, bytes]:
    """The bytes of a data file, without a UTF-8 byte-order mark. A missing file stops with
    a DataFileError naming it; ``layout`` (e.g. ``source<TAB>target``) goes into the
    message."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataFileError(
            f"data file {path.resolve()} does not exist. Give task.train_path / "
            f"task.valid_path / task.test_path as paths to {layout} files (relative paths "
            f"are taken from the directory you run seqlab in)."
        )
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataFileError(
            f"data file {path} cannot be read ({error.strerror}); check its permissions"
        ) from None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    return path, raw


def read_data_text(path: str | Path, layout: str) -> tuple[Path, str]:
    """The text of a UTF-8 file, without a byte-order mark.

    A missing file, or bytes that are not UTF-8, stop with a DataFileError naming the file
    (and line); ``layout`` (e.g. ``source<TAB>target``) goes into the message for a missing
    file.
    """
    path, raw = read_data_bytes(path, layout)
    try:
        return path, raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line_number = raw.count(b"\n", 0, error.start) + 1
        column = error.start - raw.rfind(b"\n", 0, error.start)
        raise DataFileError(
            f"{path}:{line_number}: not valid UTF-8 ({error.reason} at byte {column} of the line); "
            f"save the file as UTF-8"
        ) from None


def read_data_lines(path: str | Path, layout: str) -> tuple[Path, list[tuple[int, str]]]:
    """The non-blank lines of a UTF-8 file with their 1-based line numbers.

    Windows line ends (CRLF) and a UTF-8 byte-order mark are read as if absent; errors as
    :func:`read_data_text`.
    """
    path, text = read_data_text(path, layout)
    lines = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if len(line) > MAX_LINE_CHARS:
            raise DataFileError(
                f"{path}:{number}: the line is {len(line):,} characters long; seqlab reads one "
                f"example per line (ended by \\n or \\r\\n), so this file's line ends are not "
                f"what they seem (old Mac \\r, or none); split it into lines"
            )
        if line.strip():
            lines.append((number, line))
    return path, lines


# Rewrites a comma-separated file as tab-separated (quoted fields, commas inside them, and
# whitespace inside a field as one space, so a field's line breaks do not split the example).
CSV_TO_TSV = (
    "python -c \"import csv,sys; [print('\\t'.join(' '.join(f.split()) for f in r)) for r in "
    "csv.reader(open(sys.argv[1], newline='', encoding='utf-8'))]\""
)


CSV_LAST_FIELD = re.compile(r'[^\s,],"?[^\s,"]{1,20}"?\s*$')


def looks_comma_separated(path: Path, line: str) -> bool:
    """Whether a line without a tab is from a CSV file: the file is named ``*.csv``, or the
    line ends in a comma and one short field right after it (``...,positive``, ``...",1``), as
    prose, with its space after a comma, does not."""
    return path.suffix.lower() == ".csv" or CSV_LAST_FIELD.search(line) is not None


def no_tab_message(path: Path, number: int, line: str, layout: str, otherwise: str) -> str:
    """The error for a line without a tab: what was expected, what the line holds, and how to
    fix it: for a CSV file the command that rewrites it tab-separated, else ``otherwise``."""
    fix = (
        f"It looks comma-separated (CSV); seqlab reads tab-separated files. Convert it: "
        f"{CSV_TO_TSV} {path.name} > {path.stem}.tsv"
        if looks_comma_separated(path, line)
        else otherwise
    )
    return f"{path}:{number}: no tab in this line; expected '{layout}', got {line[:60]!r}. {fix}"


def skips_first_line(
    path: Path,
    number: int,
    header: bool | None,
    names_the_columns: Callable[[], bool],
    names: tuple[str, str],
    kept_as: str,
) -> bool:
    """Whether to drop a file's first line (line ``number`` of ``path``): ``header`` (the
    task's option) if set, else whether the line ``names_the_columns()``, printing that it was
    read as the column ``names`` and how to keep it as ``kept_as``."""
    if header is not None:
        return header
    if not names_the_columns():
        return False
    print(
        f"seqlab: {path.name}:{number} read as column names ({names[0]!r}, {names[1]!r}) and "
        f"skipped; task.header=false keeps it as {kept_as}"
    )
    return True


def require_paths(config: TaskConfig, layout: str) -> None:
    """train_path, valid_path and test_path must be set (tsv, text_tsv)."""
    for key in ("train_path", "valid_path", "test_path"):
        if not getattr(config, key):
            raise ConfigError(
                f"task.{key} is not set; give a {layout} file (task.{key}=data/{key[:-5]}.tsv)"
            )
