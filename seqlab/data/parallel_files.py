"""Reading users' parallel data files: one ``source<TAB>target`` pair per line."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from seqlab.data.files import (
    no_tab_message,
    read_data_lines,
    read_data_text,
    skips_first_line,
)
from seqlab.errors import DataFileError

TextPair = tuple[str, str]  # (source, target) as they are in the data
LAYOUT = "source<TAB>target"
# A column name is one word of letters, digits, "_" or "-" ("en", "source", "german_text");
# a sentence pair's sides rarely are, and never with their punctuation.
COLUMN_NAME = re.compile(r"[^\W\d][\w-]*")


def read_tsv_pairs(path: str | Path, header: bool | None = None) -> list[TextPair]:
    """The ``source<TAB>target`` lines of a file, as they are; blank lines are skipped,
    anything else malformed is an error naming the file and line number. ``header``: true
    skips the first pair, false keeps it, None skips it when it :func:`names_the_columns`,
    saying so."""
    path, lines = read_data_lines(path, LAYOUT)
    pairs: list[TextPair] = []
    for number, line in lines:
        if "\t" not in line:
            raise DataFileError(
                no_tab_message(
                    path,
                    number,
                    line,
                    LAYOUT,
                    "For a corpus in two aligned files, one sentence a line (train.en and "
                    "train.de): paste train.en train.de > train.tsv",
                )
            )
        source, target, *rest = line.split("\t")
        if rest:
            raise DataFileError(
                f"{path}:{number}: {len(rest) + 2} tab-separated columns; expected 2 ({LAYOUT}). "
                f"To train on the first two (e.g. a Tatoeba file's third column is its "
                f"attribution): cut -f1,2 {path.name} > {path.stem}.2col{path.suffix}"
            )
        if not source.strip() or not target.strip():
            side = "source" if not source.strip() else "target"
            raise DataFileError(f"{path}:{number}: the {side} side is empty")
        pairs.append((source, target))
    sources, targets = [s for s, _ in pairs], [t for _, t in pairs]
    if pairs and skip_header(path, lines[0][0], sources, targets, header):
        pairs = pairs[1:]
    if not pairs:
        raise no_pairs(path)
    return pairs


def read_tsv_columns(path: str | Path, header: bool | None = None) -> tuple[list[str], list[str]]:
    """The sources and targets of a ``source<TAB>target`` file, as :func:`read_tsv_pairs`
    reads them. A well-formed file (one tab on every line, no blank line or side) is split
    in a few passes over the whole text; any other goes line by line, for the message."""
    path, text = read_data_text(path, LAYOUT)
    lines = text.split("\n")
    if "\r" in text:
        lines = [line.rstrip("\r") for line in lines]
    if lines and not lines[-1]:
        lines.pop()  # the final line end
    one_tab_each = text.count("\t") == len(lines) and all(
        map(str.__contains__, lines, itertools.repeat("\t"))
    )
    if lines and one_tab_each:
        fields = "\t".join(lines).split("\t")  # every line has exactly one tab
        sources, targets = fields[0::2], fields[1::2]
        if all(map(str.strip, sources)) and all(map(str.strip, targets)):
            if skip_header(path, 1, sources, targets, header):
                sources, targets = sources[1:], targets[1:]
            if not sources:
                raise no_pairs(path)
            return sources, targets
    pairs = read_tsv_pairs(path, header)
    return [s for s, _ in pairs], [t for _, t in pairs]


def no_pairs(path: Path) -> DataFileError:
    """The error for a file left with no sentence pair."""
    return DataFileError(f"{path} holds no sentence pairs (the file is empty)")


def skip_header(
    path: Path, number: int, sources: list[str], targets: list[str], header: bool | None
) -> bool:
    """Whether to drop a file's first pair (line ``number`` of ``path``): ``header`` if
    given, else whether it :func:`names_the_columns`, saying so."""
    return skips_first_line(
        path,
        number,
        header,
        lambda: names_the_columns(sources, targets),
        (sources[0].strip(), targets[0].strip()),
        "a sentence pair",
    )


def names_the_columns(sources: list[str], targets: list[str]) -> bool:
    """Whether the first pair names the columns (``en<TAB>de``, ``source<TAB>target``)
    rather than holding a translation: each side is one word of letters, digits, ``_`` or
    ``-``, no other line of its column uses that word, and the file is not a word list (at
    most half of the other pairs are one word on both sides)."""
    if len(sources) < 2:
        return False
    names = sources[0].strip(), targets[0].strip()
    if not all(COLUMN_NAME.fullmatch(name) for name in names):
        return False
    for name, column in zip(names, (sources, targets), strict=True):
        word = re.compile(rf"(?<!\S){re.escape(name)}(?!\S)")
        if word.search("\n".join(column[1:])):
            return False
    one_word = sum(
        1
        for s, t in zip(sources[1:], targets[1:], strict=True)
        if len(s.split()) == len(t.split()) == 1
    )
    return one_word <= (len(sources) - 1) / 2
