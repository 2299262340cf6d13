"""Your own text classification data: text<TAB>label files."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqlab.data.labelled_files import read_text_tsv
from seqlab.errors import ConfigError, DataFileError
from seqlab.tasks.text_tsv import TextTsvConfig, TextTsvDataModule


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_text_tsv_reads_names_and_integers(tmp_path: Path):
    f = _write(tmp_path / "a.tsv", "Great film!\tpositive\nawful\tnegative\nok\t1\n")
    examples, _ = read_text_tsv(f, ["negative", "positive"])
    assert examples == [("Great film!", 1), ("awful", 0), ("ok", 1)]


@pytest.mark.parametrize(
    ("labels", "names"),
    [
        (["1", "-1", "1"], ["-1", "1"]),  # signs: two names, not a name and an index
        (["1", "²", "0"], ["0", "1", "²"]),  # a superscript is a name (int() cannot read it)
        (["positive", "negative", "1"], ["1", "negative", "positive"]),
        (["2", "0", "1"], ["0", "1", "2"]),  # indices only: classes 0..C-1
        (["3", "0"], ["0", "1", "2", "3"]),
    ],
)
def test_a_training_file_of_mixed_labels_makes_each_a_class(
    tmp_path: Path, labels: list[str], names: list[str]
):
    f = _write(
        tmp_path / "a.tsv", "".join(f"text {i}\t{label}\n" for i, label in enumerate(labels))
    )
    examples, found = read_text_tsv(f, None)
    assert found == names
    assert [names[index] for _, index in examples] == labels


def test_the_text_is_tokenized_by_the_configured_tokenizer(tmp_path: Path):
    f = _write(tmp_path / "a.tsv", "Great film!\tpositive\nAwful, really.\tnegative\n")
    words = TextTsvDataModule(TextTsvConfig(train_path=str(f), valid_path=str(f), test_path=str(f)))
    words.setup()
    assert words.splits["train"].examples[0].words == ["great", "film", "￭!"]
    assert words.spec.source_tokenizer.kind == "word"
    plain = TextTsvConfig(
        train_path=str(f),
        valid_path=str(f),
        test_path=str(f),
        tokenizer="whitespace",
        lowercase=False,
    )
    dm = TextTsvDataModule(plain)
    dm.setup()
    assert dm.splits["train"].examples[1].words == ["Awful,", "really."]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("good\tpositive\nbad\tmaybe\n", "a.tsv:2: label 'maybe' is neither a class"),
        ("good\t7\n", "a.tsv:1: label '7' is neither a class"),
        ("", "holds no examples"),
        ("good positive\n", "a.tsv:1: no tab"),
    ],
)
def test_text_tsv_errors_name_file_and_line(tmp_path: Path, text: str, message: str):
    with pytest.raises(DataFileError, match=message):
        read_text_tsv(_write(tmp_path / "a.tsv", text), ["negative", "positive"])


def test_data_module_reads_three_files_with_the_training_classes(tmp_path: Path):
    train = _write(tmp_path / "train.tsv", "good\tpos\nbad\tneg\nfine\tpos\n")
    other = _write(tmp_path / "other.tsv", "good\tpos\n")
    config = TextTsvConfig(train_path=str(train), valid_path=str(other), test_path=str(other))
    dm = TextTsvDataModule(config)
    dm.setup()
    assert dm.label_names() == ["neg", "pos"] and dm.spec.num_classes == 2
    assert len(dm.splits["train"]) == 3 and dm.spec.focus_metric is None


def test_paths_must_be_set():
    with pytest.raises(ConfigError, match="task.valid_path is not set"):
        TextTsvConfig(train_path="a.tsv", test_path="b.tsv")
