"""task=lm: plain-text files read line by line into one token stream per split, at the
character, word or sentencepiece level, with the unigram baseline of the training text."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from seqlab.errors import ConfigError, DataFileError
from seqlab.tasks.lm import (
    LanguageModelConfig,
    LanguageModelDataModule,
    read_text_lines,
    unigram_ce,
    unigram_log_probs,
)
from seqlab.text.lines import decode_text
from seqlab.text.vocab import EOS_ID, UNK_ID


def _files(tmp_path: Path, train: str, other: str | None = None) -> dict[str, str]:
    (tmp_path / "train.txt").write_text(train, encoding="utf-8")
    (tmp_path / "other.txt").write_text(train if other is None else other, encoding="utf-8")
    return {
        "train_path": str(tmp_path / "train.txt"),
        "valid_path": str(tmp_path / "other.txt"),
        "test_path": str(tmp_path / "other.txt"),
    }


def _data(
    tmp_path: Path, train: str, other: str | None = None, **options
) -> LanguageModelDataModule:
    dm = LanguageModelDataModule(LanguageModelConfig(**_files(tmp_path, train, other), **options))
    dm.setup()
    return dm


def test_lines_keep_blank_ones_and_read_windows_line_ends(tmp_path: Path):
    (tmp_path / "a.txt").write_bytes(b"one\r\n\r\ntwo three\nlast")
    assert read_text_lines(tmp_path / "a.txt") == ["one", "", "two three", "last"]
    (tmp_path / "b.txt").write_bytes(b"x\n")
    assert read_text_lines(tmp_path / "b.txt") == ["x"]  # a final line end adds no line


def test_character_level_stream_is_every_character_with_a_token_per_line_end(tmp_path: Path):
    dm = _data(tmp_path, "ab a\n\nba\n")
    vocab, ids = dm.spec.source_vocab, dm.ids["train"]
    assert ids[0] == EOS_ID and ids.numel() == 1 + len("ab a\n\nba\n")
    assert decode_text(ids[1:].tolist(), vocab, dm.spec.source_tokenizer) == "ab a\n\nba\n"
    assert dm.spec.characters_per_token == {"train": 1.0, "val": 1.0, "test": 1.0}
    assert dm.spec.vocab_size == len(vocab) == 4 + 3  # specials, then a, b and the space


def test_word_level_splits_on_whitespace_and_reads_unknown_words_as_unk(tmp_path: Path):
    dm = _data(tmp_path, "the cat <unk> sat\nthe dog\n", "the bird sat\n", level="word")
    vocab = dm.spec.source_vocab
    assert vocab.itos[4] == "the"
    assert dm.ids["val"].tolist() == [EOS_ID, vocab.stoi["the"], UNK_ID, vocab.stoi["sat"], EOS_ID]
    assert UNK_ID in dm.ids["train"].tolist()  # the corpus' own <unk> is seqlab's
    assert dm.spec.characters_per_token == {}  # words do not spell the text: perplexity only


def test_sentencepiece_level_learns_pieces_from_the_training_text(tmp_path: Path):
    text = "".join(f"the quick brown fox {i} jumps over the lazy dog\n" for i in range(40))
    dm = _data(tmp_path, text, level="sentencepiece", vocab_size=80)
    tokenizer = dm.spec.source_tokenizer
    assert tokenizer.kind == "sentencepiece"
    assert decode_text(dm.ids["val"][1:].tolist(), dm.spec.source_vocab, tokenizer) == text
    tokens = dm.ids["val"].numel() - 1
    assert tokens < len(text)  # pieces are longer than characters
    assert dm.spec.characters_per_token["val"] == pytest.approx(len(text) / tokens)


def test_the_unigram_baseline_is_the_smoothed_training_frequency(tmp_path: Path):
    dm = _data(tmp_path, "aab\n", "ab\n")
    vocab = dm.spec.source_vocab
    # targets of train: a a b <eos>; add-one over the 4 ids that can be targets (<unk>,
    # <eos>, a, b; not <pad> or <bos>): counts 1, 2, 3, 2 of 8
    p = {"a": 3 / 8, "b": 2 / 8, "<eos>": 2 / 8}
    expected = -(math.log(p["a"]) + math.log(p["b"]) + math.log(p["<eos>"])) / 3
    assert dm.spec.split_baseline_ce["val"] == pytest.approx(expected)
    log_probs = unigram_log_probs(dm.ids["train"], len(vocab))
    assert float(log_probs.exp().sum()) == pytest.approx(1.0)
    assert unigram_ce(log_probs, dm.ids["val"]) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("train", "message"),
    [
        ("", r"holds no text \(it is empty or only whitespace\)"),
        ("  \n\n", "holds no text"),
    ],
)
def test_empty_files_are_refused(tmp_path: Path, train: str, message: str):
    with pytest.raises(DataFileError, match=message):
        _data(tmp_path, train)


def test_bytes_that_are_not_utf8_are_refused_with_file_and_line(tmp_path: Path):
    files = _files(tmp_path, "fine\n")
    Path(files["train_path"]).write_bytes(b"fine\nbad \xff byte\n")
    with pytest.raises(DataFileError, match=r"train.txt:2: not valid UTF-8"):
        LanguageModelDataModule(LanguageModelConfig(**files)).setup()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"level": "byte"}, "task.level"),
        ({"batch_size": 0}, "batch_size"),
        ({"eval_streams": 0}, "eval_streams"),
        ({"train_path": None}, "task.train_path is not set"),
    ],
)
def test_bad_options_are_refused(tmp_path: Path, options: dict, message: str):
    files = {**_files(tmp_path, "text\n"), **options}
    rest = {k: v for k, v in options.items() if not k.endswith("_path")}
    with pytest.raises(ConfigError, match=message):
        LanguageModelConfig(**{**files, **rest})


def test_a_checkpoints_vocabulary_reads_only_the_split_asked_for(tmp_path: Path):
    trained = _data(tmp_path, "abc\n", "cab\n")
    dm = LanguageModelDataModule(trained.config)
    dm.source_vocab, dm.source_tokenizer = trained.spec.source_vocab, trained.spec.source_tokenizer
    dm.needed_splits = ("test",)
    Path(trained.config.train_path).unlink()  # not needed
    dm.setup()
    assert torch.equal(dm.ids["test"], trained.ids["test"]) and "train" not in dm.ids
