"""The encoded-data cache: a tsv corpus is tokenized once; later runs with the same files and
options load the cached tokenizers, vocabularies and ids, and anything changed rebuilds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from seqlab.tasks.tsv import TsvConfig, TsvTranslationDataModule
from seqlab.text import cache as encoded_cache
from tests.conftest import train

PAIRS = [
    "The dog sleeps.\tLe chien dort.",
    "A cat eats, slowly.\tUn chat mange, lentement.",
    "The small cat!\tLe petit chat !",
    "Dogs (and cats) run.\tLes chiens (et les chats) courent.",
] * 6


@pytest.fixture
def corpus(tmp_path: Path) -> dict[str, str]:
    paths = {}
    for name in ("train", "valid", "test"):
        path = tmp_path / f"{name}.tsv"
        path.write_text("\n".join(PAIRS) + "\n", encoding="utf-8")
        paths[f"{name}_path"] = str(path)
    return paths


def built(corpus: dict[str, str], **options) -> TsvTranslationDataModule:
    data = TsvTranslationDataModule(TsvConfig(**corpus, **options))
    data.setup()
    return data


def assert_same_data(a: TsvTranslationDataModule, b: TsvTranslationDataModule) -> None:
    assert a.source_vocab.itos == b.source_vocab.itos
    assert a.target_vocab.itos == b.target_vocab.itos
    assert a.length_ratio == b.length_ratio
    assert a.raw_text == b.raw_text
    for split in ("train", "val", "test"):
        x, y = a.splits[split], b.splits[split]
        for name in ("src_ids", "src_offsets", "tgt_ids", "tgt_offsets"):
            assert torch.equal(getattr(x, name), getattr(y, name)), (split, name)
    text = "The small dog eats."
    assert a.source_tokenizer.encode(text) == b.source_tokenizer.encode(text)


@pytest.mark.parametrize(
    "options",
    [
        {"tokenizer": "sentencepiece", "vocab_size": 60},
        {"tokenizer": "sentencepiece", "vocab_size": 60, "shared_vocab": True},
        {"tokenizer": "word", "lowercase": True},
        {"tokenizer": "whitespace", "min_freq": 2},
    ],
)
def test_second_setup_reads_the_cache_and_gets_the_same_data(corpus, options, capsys):
    first = built(corpus, **options)
    assert "encoded data cached in" in capsys.readouterr().out
    assert len(list(encoded_cache.cache_dir().glob("*.pt"))) == 1
    second = built(corpus, **options)
    assert "read from the cache" in capsys.readouterr().out
    assert_same_data(first, second)
    if options.get("shared_vocab"):
        assert second.source_tokenizer is second.target_tokenizer
        assert second.source_vocab is second.target_vocab


def test_a_changed_file_or_option_rebuilds(corpus, capsys):
    built(corpus, tokenizer="word")
    capsys.readouterr()
    built(corpus, tokenizer="whitespace")  # another option: another entry
    assert "encoded data cached in" in capsys.readouterr().out
    test_file = Path(corpus["test_path"])
    test_file.write_text("A new dog.\tUn nouveau chien.\n", encoding="utf-8")
    stat = test_file.stat()  # make sure the modification time moves, even on coarse clocks
    os.utime(test_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    data = built(corpus, tokenizer="word")
    assert "encoded data cached in" in capsys.readouterr().out
    assert data.raw_text["test"] == (["A new dog."], ["Un nouveau chien."])
    assert len(list(encoded_cache.cache_dir().glob("*.pt"))) == 3


def test_cache_false_writes_nothing(corpus, capsys):
    built(corpus, tokenizer="word", cache=False)
    built(corpus, tokenizer="word", cache=False)
    assert "cache" not in capsys.readouterr().out
    assert not encoded_cache.cache_dir().exists()


def test_an_unreadable_entry_is_rebuilt(corpus, capsys):
    first = built(corpus, tokenizer="word")
    (entry,) = encoded_cache.cache_dir().glob("*.pt")
    entry.write_bytes(b"not a torch file")
    capsys.readouterr()
    second = built(corpus, tokenizer="word")
    out = capsys.readouterr().out
    assert "ignoring the unreadable data cache" in out and "encoded data cached in" in out
    assert_same_data(first, second)


def test_an_unwritable_cache_is_a_note_not_an_error(corpus, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("SEQLAB_CACHE_DIR", str(blocker))  # a file: no directory under it
    data = built(corpus, tokenizer="word")
    assert "could not write the data cache" in capsys.readouterr().out
    assert len(data.splits["train"]) == len(PAIRS)


def test_a_run_from_the_cache_trains_as_the_first(corpus, tmp_path):
    options = [f"task.{k}={v}" for k, v in corpus.items()]
    overrides = [
        "model=seq2seq",
        "task=tsv",
        *options,
        "task.tokenizer=word",
        "model.hidden_size=16",
        "model.embedding_size=8",
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=2",
        "trainer.enable_progress_bar=false",
    ]
    first = train(overrides, tmp_path / "first")
    assert len(list(encoded_cache.cache_dir().glob("*.pt"))) == 1
    second = train(overrides, tmp_path / "second")
    assert first["test/ce"] == second["test/ce"]
    assert first["test/bleu"] == second["test/bleu"]
