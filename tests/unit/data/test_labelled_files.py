"""Reading text classification files: label column, header lines, class names."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqlab.data.labelled_files import looks_like_a_header, read_text_tsv, split_labelled_lines
from seqlab.errors import DataFileError


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


REVIEWS = [f"review number {i}\t{i % 2}" for i in range(8)]


def test_a_glue_style_header_over_class_indices_is_skipped_and_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = _write(tmp_path / "train.tsv", ["sentence\tlabel", *REVIEWS])
    examples, names = read_text_tsv(path, None)
    assert names == ["0", "1"]
    assert examples[0] == ("review number 0", 0) and len(examples) == 8
    assert "train.tsv:1 read as column names ('sentence', 'label')" in capsys.readouterr().out


def test_a_header_over_class_names_is_skipped_in_every_split(tmp_path: Path):
    rows = [f"film {i}\t{'pos' if i % 2 else 'neg'}" for i in range(8)]
    train = _write(tmp_path / "train.tsv", ["review text\tsentiment", *rows])
    _, names = read_text_tsv(train, None)
    assert names == ["neg", "pos"]
    test = _write(tmp_path / "test.tsv", ["text\tsentiment", "film 9\tpos"])
    assert read_text_tsv(test, names) == ([("film 9", 1)], names)


def test_header_true_skips_and_false_keeps_the_first_line(tmp_path: Path):
    path = _write(tmp_path / "a.tsv", ["sentence\tlabel", *REVIEWS])
    assert len(read_text_tsv(path, None, header=True)[0]) == 8
    examples, names = read_text_tsv(path, None, header=False)
    assert len(examples) == 9 and names == ["0", "1", "label"]


@pytest.mark.parametrize(
    "lines",
    [
        ["Great film!\tpositive", "awful\tnegative", "ok\t1"],  # every label once: no header
        ["A long first sentence here\tnew", *REVIEWS],  # more than a few words
        ["sentence\t0", *REVIEWS],  # a class index
        ["sentence\tlabel", "good\tlabel", "bad\tother"],  # its label recurs
    ],
    ids=["labels_do_not_repeat", "long_text", "index_label", "label_recurs"],
)
def test_a_first_line_that_may_be_an_example_is_not_a_header(tmp_path: Path, lines: list[str]):
    path = _write(tmp_path / "a.tsv", lines)
    rows = split_labelled_lines(path, list(enumerate(lines, start=1)), "last")
    assert not looks_like_a_header(rows, None)


def test_with_known_classes_a_first_label_outside_them_is_a_header(tmp_path: Path):
    lines = ["text\tlabel", "good\tpos"]
    rows = split_labelled_lines(tmp_path, list(enumerate(lines, start=1)), "last")
    assert looks_like_a_header(rows, ["neg", "pos"])
    assert not looks_like_a_header(rows[1:] * 2, ["neg", "pos"])


def test_the_label_can_come_first(tmp_path: Path):
    path = _write(tmp_path / "a.tsv", ["label\ttext", *["1\tgood\tfilm", "0\tbad film"] * 2])
    examples, names = read_text_tsv(path, None, label_column="first")
    assert names == ["0", "1"]
    assert examples == [("good\tfilm", 1), ("bad film", 0)] * 2


def test_a_column_of_text_as_labels_is_refused_with_the_fix(tmp_path: Path):
    path = _write(tmp_path / "a.tsv", [f"{i % 2}\tthe review number {i}" for i in range(30)])
    with pytest.raises(DataFileError, match="30 distinct labels in 30 lines") as error:
        read_text_tsv(path, None)
    assert "set task.label_column=first" in str(error.value)
    assert len(read_text_tsv(path, None, label_column="first")[1]) == 2


def test_many_classes_are_kept_when_listed(tmp_path: Path):
    names = [f"intent {i}" for i in range(30)]
    path = _write(tmp_path / "a.tsv", [f"utterance {i}\t{name}" for i, name in enumerate(names)])
    assert read_text_tsv(path, names)[1] == names


def test_an_unknown_label_message_lists_a_few_classes(tmp_path: Path):
    path = _write(tmp_path / "a.tsv", ["hello\tnone of them"])
    names = [f"class {i}" for i in range(50)]
    with pytest.raises(DataFileError) as error:
        read_text_tsv(path, names)
    assert "class 9, ... (50 classes)) nor an integer below 50" in str(error.value)
    assert "class 10" not in str(error.value)
