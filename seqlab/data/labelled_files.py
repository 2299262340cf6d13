"""Reading users' text classification files: ``text<TAB>label`` (or ``label<TAB>text``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seqlab.data.files import no_tab_message, read_data_lines, skips_first_line
from seqlab.errors import DataFileError

LABEL_COLUMNS = ("last", "first")
# Column names are a word or two ("sentence", "review text"); a header's text side is short.
HEADER_MAX_WORDS = 3
# More distinct class names than this, and than half the lines, is a column of text.
MAX_NAMES_WITHOUT_LIST = 20
NAMES_SHOWN = 10


@dataclass(frozen=True)
class LabelledLine:
    """One example as the file holds it: 1-based line number, text, label (stripped)."""

    number: int
    text: str
    label: str


def is_class_index(label: str) -> bool:
    """Whether a label is a class index: ASCII digits only (``str.isdigit`` also accepts
    superscripts and other digits ``int`` cannot read)."""
    return label.isascii() and label.isdigit()


def layout_of(label_column: str) -> str:
    """The line layout a label column means, for messages."""
    return "text<TAB>label" if label_column == "last" else "label<TAB>text"


def split_labelled_lines(
    path: Path, lines: list[tuple[int, str]], label_column: str
) -> list[LabelledLine]:
    """``(number, line)`` -> LabelledLine, the label after the last tab (``last``) or before
    the first (``first``); a line without a tab or with an empty side is an error."""
    layout = layout_of(label_column)
    rows: list[LabelledLine] = []
    for number, line in lines:
        if "\t" not in line:
            raise DataFileError(
                no_tab_message(
                    path, number, line, layout, "Separate the text and its label by a tab."
                )
            )
        if label_column == "last":
            text, label = line.rsplit("\t", 1)
        else:
            label, text = line.split("\t", 1)
        if not text.strip():
            raise DataFileError(f"{path}:{number}: the text is empty")
        if not label.strip():
            raise DataFileError(f"{path}:{number}: the label is empty; every line needs '{layout}'")
        rows.append(LabelledLine(number, text, label.strip()))
    return rows


def looks_like_a_header(rows: list[LabelledLine], names: list[str] | None) -> bool:
    """Whether the first line names the columns (``sentence<TAB>label``) rather than holding
    an example: its text is a few words at most and its label is no class index and not one
    of the known class ``names``; with no names known (a training file), its label is on no
    other line, and the labels of the other lines repeat (a class has two examples on
    average), as a classification file's do."""
    if len(rows) < 2:
        return False
    first, rest = rows[0], rows[1:]
    if is_class_index(first.label) or len(first.text.split()) > HEADER_MAX_WORDS:
        return False
    if names is not None:
        return first.label not in names
    others = {row.label for row in rest}
    return first.label not in others and len(others) <= len(rest) / 2


def shown(names: list[str]) -> str:
    """The class names for a message: at most NAMES_SHOWN of them, then how many more."""
    if len(names) <= NAMES_SHOWN:
        return ", ".join(names)
    return f"{', '.join(names[:NAMES_SHOWN])}, ... ({len(names):,} classes)"


def integer_classes(path: Path, rows: list[LabelledLine]) -> list[str]:
    """Class names 0..C-1 for a file labelled by class index. An index far above the number
    of distinct labels is a typo, not a class: it would ask for that many output units."""
    distinct = {int(r.label) for r in rows}
    top = max(rows, key=lambda r: int(r.label))
    classes = int(top.label) + 1
    if classes > max(100, 10 * len(distinct)):
        raise DataFileError(
            f"{path}:{top.number}: label {top.label} would make {classes:,} classes, but the "
            f"file has {len(distinct)} distinct labels; integer labels are class indices "
            f"0..C-1. Fix the label, or name the classes with task.labels=[...]"
        )
    return [str(i) for i in range(classes)]


def class_names(path: Path, rows: list[LabelledLine], label_column: str) -> list[str]:
    """The classes a training file defines: 0..C-1 when every label is a class index, else
    each distinct label, sorted (``-1`` and ``1`` are two names). As many names as examples
    is a column of text, not of labels."""
    if all(is_class_index(r.label) for r in rows):
        return integer_classes(path, rows)
    names = sorted({r.label for r in rows})
    if len(names) > MAX_NAMES_WITHOUT_LIST and len(names) > len(rows) / 2:
        other = "first" if label_column == "last" else "last"
        raise DataFileError(
            f"{path}: {len(names):,} distinct labels in {len(rows):,} lines (e.g. "
            f"{names[0][:60]!r}): the label column holds text. seqlab takes the label from "
            f"the {label_column} column; for a file with the label {other}, set "
            f"task.label_column={other}. To train with this many classes, list them in "
            f"task.labels=[...]"
        )
    return names


def read_text_tsv(
    path: str | Path,
    labels: list[str] | None,
    label_column: str = "last",
    header: bool | None = None,
) -> tuple[list[tuple[str, int]], list[str]]:
    """``text<TAB>label`` lines -> (text as in the file, class index) and the class names.

    A label is a class name from ``labels`` or an integer index into it; with ``labels``
    unset, the file's labels define the classes (:func:`class_names`). ``label_column``:
    ``last`` (the label after the last tab) or ``first`` (before the first tab).
    ``header``: true skips the first line, false keeps it, None skips it when it
    :func:`looks_like_a_header`, saying so.
    """
    path, lines = read_data_lines(path, layout_of(label_column))
    rows = split_labelled_lines(path, lines, label_column)
    if rows and skips_first_line(
        path,
        rows[0].number,
        header,
        lambda: looks_like_a_header(rows, labels),
        (rows[0].text.strip(), rows[0].label),
        "an example",
    ):
        rows = rows[1:]
    if not rows:
        raise DataFileError(f"{path} holds no examples (the file is empty)")
    names = list(labels) if labels else class_names(path, rows, label_column)
    examples = []
    for row in rows:
        if row.label in names:
            index = names.index(row.label)
        elif is_class_index(row.label) and int(row.label) < len(names):
            index = int(row.label)
        else:
            raise DataFileError(
                f"{path}:{row.number}: label {row.label!r} is neither a class ({shown(names)}) "
                f"nor an integer below {len(names)}"
            )
        examples.append((row.text, index))
    return examples, names
