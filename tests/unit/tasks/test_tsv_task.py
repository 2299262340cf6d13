"""The tsv task: your own parallel data, its paths checked in the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqlab.errors import ConfigError, DataFileError
from seqlab.tasks.tsv import TsvConfig, TsvTranslationDataModule


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_missing_file_is_named(tmp_path: Path):
    good = str(_write(tmp_path / "t.tsv", "a b\tc d\n"))
    config = TsvConfig(train_path=good, valid_path=str(tmp_path / "missing.tsv"), test_path=good)
    with pytest.raises(DataFileError, match="missing.tsv does not exist"):
        TsvTranslationDataModule(config).setup()


@pytest.mark.parametrize(("header", "pairs"), [(None, 3), (True, 3), (False, 4)])
def test_a_header_line_is_neither_trained_on_nor_scored(
    tmp_path: Path, header: bool | None, pairs: int
):
    text = "en\tde\nthe dog runs .\tder hund rennt .\na cat\teine katze\nthe cat .\tdie katze .\n"
    path = str(_write(tmp_path / "pairs.tsv", text))
    config = TsvConfig(
        train_path=path,
        valid_path=path,
        test_path=path,
        header=header,
        tokenizer="word",
        cache=False,
    )
    data = TsvTranslationDataModule(config)
    data.setup()
    sources, references = data.raw_text["test"]
    assert len(data.splits["train"]) == len(sources) == len(references) == pairs
    assert (references[0] == "de") == (header is False)


def test_the_header_option_is_part_of_the_cache_key(tmp_path: Path):
    path = str(_write(tmp_path / "pairs.tsv", "en\tde\na cat\teine katze\n"))
    keys = {
        TsvTranslationDataModule(
            TsvConfig(train_path=path, valid_path=path, test_path=path, header=header)
        ).cache_key()
        for header in (None, True, False)
    }
    assert len(keys) == 3


def test_paths_must_be_set():
    with pytest.raises(ConfigError, match="task.train_path is not set"):
        TsvConfig()
