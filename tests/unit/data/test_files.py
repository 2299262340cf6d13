"""The generic reading of data files: a line without a tab says how to fix the file, and the
CSV conversion command it prints converts a CSV file that seqlab then reads as it was meant."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from seqlab.data.files import CSV_TO_TSV, looks_comma_separated
from seqlab.data.labelled_files import read_text_tsv
from seqlab.data.parallel_files import read_tsv_pairs
from seqlab.errors import DataFileError


@pytest.mark.parametrize(
    ("name", "line", "comma_separated"),
    [
        ("reviews.csv", "A fine film", True),  # named so
        ("reviews.txt", '"A fine film, really",positive', True),  # ends in ,label
        ("reviews.txt", "A fine film,1", True),
        ("train.en", "Hello, how are you?", False),  # a sentence with a comma
        ("train.en", "Two dogs play.", False),
        ("train.en", "Thank you, sir", False),  # prose: a space after the comma
        ("reviews.txt", 'A fine film,"pos"', True),
        ("a.tsv", "ends in a comma,", False),
    ],
)
def test_a_comma_separated_line_is_told_from_a_sentence(
    name: str, line: str, comma_separated: bool
) -> None:
    assert looks_comma_separated(Path(name), line) is comma_separated


def test_a_csv_file_is_refused_with_the_command_that_converts_it(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text('text,label\n"great, loved it",1\n', encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        read_text_tsv(path, None)
    message = str(caught.value)
    assert message.startswith(f"{path}:1: no tab in this line; expected 'text<TAB>label'")
    assert f"{CSV_TO_TSV} reviews.csv > reviews.tsv" in message


def test_a_parallel_file_without_tabs_is_told_how_to_join_two_files(tmp_path: Path) -> None:
    path = tmp_path / "train.en"
    path.write_text("Hello, how are you?\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"train.en:1: no tab.*paste train.en train.de"):
        read_tsv_pairs(path)


def test_the_printed_conversion_reads_quotes_commas_and_line_breaks(tmp_path: Path) -> None:
    (tmp_path / "reviews.csv").write_text(
        'text,label\n"great, loved it",1\n"an ""awful""\nfilm",0\nfine,1\nbad,0\n', encoding="utf-8"
    )
    command = CSV_TO_TSV.replace("python ", f"{sys.executable} ", 1)
    subprocess.run(["bash", "-c", f"{command} reviews.csv > reviews.tsv"], cwd=tmp_path, check=True)
    assert (tmp_path / "reviews.tsv").read_text(encoding="utf-8") == (
        'text\tlabel\ngreat, loved it\t1\nan "awful" film\t0\nfine\t1\nbad\t0\n'
    )
    examples, classes = read_text_tsv(tmp_path / "reviews.tsv", None)  # header skipped
    assert examples == [("great, loved it", 1), ('an "awful" film', 0), ("fine", 1), ("bad", 0)]
    assert classes == ["0", "1"]
