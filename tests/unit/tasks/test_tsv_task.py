"""The tsv task: your own parallel data, its paths checked in the config."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

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


def _pairs_file(tmp_path: Path) -> str:
    lines = ["a b\tA B", "a b c d e\tA B", "a\tA B C D E F", "c d e\tC D E", "b\tB"]
    return str(_write(tmp_path / "pairs.tsv", "\n".join(lines) + "\n"))


@pytest.mark.parametrize("cache", [False, True])
def test_max_len_leaves_out_long_training_pairs_only(tmp_path: Path, monkeypatch, capsys, cache):
    monkeypatch.setenv("SEQLAB_CACHE_DIR", str(tmp_path / "cache"))
    path = _pairs_file(tmp_path)
    options = dict(train_path=path, valid_path=path, test_path=path, tokenizer="whitespace")
    whole = TsvTranslationDataModule(TsvConfig(**options, cache=cache))
    whole.setup()
    for _ in range(2 if cache else 1):  # with the cache: encoded, then read from it
        data = TsvTranslationDataModule(TsvConfig(**options, cache=cache, max_len=3))
        data.setup()
        train = data.splits["train"]
        assert train.src_lengths.tolist() == [2, 3, 1] and train.tgt_lengths.tolist() == [2, 3, 1]
        got, want = train[[0, 1, 2]], whole.splits["train"][[0, 3, 4]]
        assert got.keys() == want.keys()
        for name in got.keys() - {"index"}:  # index: the positions in the split
            assert torch.equal(got[name], want[name]), name
        assert len(data.splits["val"]) == len(data.splits["test"]) == 5
        assert data.length_ratio == whole.length_ratio  # of the whole training file
        out = capsys.readouterr().out
        assert "task.max_len=3 leaves out 2 of 5 training pairs (40.0%)" in out


def _max_len_1(path: str) -> TsvConfig:
    options = dict(train_path=path, valid_path=path, test_path=path, tokenizer="whitespace")
    return TsvConfig(**options, max_len=1, cache=False)


def test_max_len_that_leaves_nothing_says_so(tmp_path: Path):
    data = TsvTranslationDataModule(_max_len_1(_pairs_file(tmp_path)))
    data.setup()  # "b<TAB>B" is one token a side
    assert len(data.splits["train"]) == 1
    long_only = TsvTranslationDataModule(_max_len_1(str(_write(tmp_path / "l.tsv", "a b\tA B\n"))))
    with pytest.raises(ConfigError, match="task.max_len=1 leaves no training pair.*has 2"):
        long_only.setup()
    with pytest.raises(ConfigError, match="task.max_len must be >= 1 or null"):
        TsvConfig(train_path="t.tsv", valid_path="t.tsv", test_path="t.tsv", max_len=0)


def test_a_pair_far_longer_than_its_source_is_named(tmp_path: Path, capsys):
    pairs = ["a b c\tA B C"] * 30 + ["a\t" + " ".join(["A"] * 12)] + ["b c\tB C D"] * 30
    path = str(_write(tmp_path / "pairs.tsv", "\n".join(pairs) + "\n"))
    options = dict(train_path=path, valid_path=path, test_path=path, tokenizer="whitespace")
    data = TsvTranslationDataModule(TsvConfig(**options, cache=False))
    data.setup()
    assert data.length_ratio == 12.0  # the bound itself is unchanged: it truncates nothing
    out = capsys.readouterr().out
    assert "training pair 31 has a target 12.0x as long as its source (1 -> 12 tokens)" in out
    assert "decoding.max_length=N" in out
    clean = str(_write(tmp_path / "clean.tsv", "\n".join(pairs[:30] + pairs[31:]) + "\n"))
    options.update(train_path=clean, valid_path=clean, test_path=clean)
    TsvTranslationDataModule(TsvConfig(**options, cache=False)).setup()
    assert "training pair" not in capsys.readouterr().out
