"""Vocabularies, the synthetic language pair, the TSV loader and length batching."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from seqlab.tasks.copy import Seq2SeqCopyDataModule
from seqlab.tasks.seq2seq_data import LengthBatchSampler
from seqlab.tasks.translation import TranslationDataModule, translate
from seqlab.tasks.tsv import DataFileError, TsvTranslationDataModule, read_tsv_pairs
from seqlab.tasks.vocab import EOS_ID, UNK_ID, Vocab


def test_vocab_min_freq_max_size_and_unknown_words():
    vocab = Vocab.build([["a", "a", "b", "c"], ["a", "b"]], min_freq=2)
    assert vocab.itos[4:] == ["a", "b"]
    assert vocab.encode(["a", "c"]) == [4, UNK_ID]
    assert Vocab.build([["a", "a", "b", "c"]], max_size=1).itos[4:] == ["a"]
    assert vocab.decode([4, 5, EOS_ID, 4]) == ["a", "b"]
    assert Vocab.from_list(vocab.to_list()).itos == vocab.itos


def test_translation_reorders_adjectives_and_expands_words():
    assert translate(["the", "big", "red", "dog", "sees", "a", "cat"]) == [
        "le",
        "chien",
        "grand",
        "rouge",
        "voit",
        "un",
        "chat",
    ]
    assert translate(
        ["my", "dog", "often", "takes", "the", "book", "near", "a", "tree"]
    ) == "mon chien tres souvent prend avec le livre pres de un arbre".split(" ")


def test_translation_splits_respect_length_ranges_and_seeds():
    dm = TranslationDataModule(
        min_len=2, max_len=5, test_min_len=8, test_max_len=9, n_train=300, n_val=20, n_test=50
    )
    pairs = dm.make_pairs()
    assert all(2 <= len(s) <= 5 for s, _ in pairs["train"])
    assert all(8 <= len(s) <= 9 for s, _ in pairs["test"])
    assert all(t == translate(s) for s, t in pairs["train"])
    again = TranslationDataModule(
        min_len=2, max_len=5, test_min_len=8, test_max_len=9, n_train=300, n_val=20, n_test=50
    ).make_pairs()
    assert again == pairs
    with pytest.raises(ValueError, match="task.min_len <= task.max_len"):
        TranslationDataModule(min_len=5, max_len=2)


def test_translation_pool_keeps_the_short_sentences_of_the_same_corpus():
    options = dict(min_len=1, test_min_len=1, test_max_len=9, n_train=400, n_val=20, n_test=20)
    full = TranslationDataModule(max_len=20, **options).make_pairs()["train"]
    subset = TranslationDataModule(max_len=8, pool_max_len=20, **options).make_pairs()["train"]
    assert subset == [pair for pair in full if len(pair[0]) <= 8]  # the same draws, filtered
    assert 0.25 * len(full) < len(subset) < 0.6 * len(full)
    with pytest.raises(ValueError, match="task.pool_max_len"):
        TranslationDataModule(max_len=20, pool_max_len=10)


def test_seq2seq_copy_targets_equal_sources():
    dm = Seq2SeqCopyDataModule(n_train=50, n_val=5, n_test=5, seq2seq={"min_len": 3, "max_len": 6})
    for source, target in dm.make_pairs()["train"]:
        assert source == target and 3 <= len(source) <= 6


def test_length_batches_group_similar_lengths():
    lengths = [random.Random(i).randint(1, 40) for i in range(200)]
    batches = list(LengthBatchSampler(lengths, 16, shuffle=True))
    assert sorted(i for b in batches for i in b) == list(range(200))
    assert max(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) <= 8


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_tsv_reads_pairs_and_lowercases(tmp_path: Path):
    f = _write(tmp_path / "a.tsv", "The Dog\tLe Chien\n\nA cat\tUn chat\n")
    assert read_tsv_pairs(f, lowercase=True) == [
        (["the", "dog"], ["le", "chien"]),
        (["a", "cat"], ["un", "chat"]),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("the dog\tle chien\nno tab here\n", r"a.tsv:2: no tab in this line"),
        ("", "holds no sentence pairs"),
        ("a\tb\tc\n", r"a.tsv:1: 3 tab-separated columns"),
        ("\tle chien\n", r"a.tsv:1: the source side is empty"),
    ],
)
def test_tsv_malformed_files_name_file_and_line(tmp_path: Path, text: str, message: str):
    with pytest.raises(DataFileError, match=message):
        read_tsv_pairs(_write(tmp_path / "a.tsv", text))


def test_tsv_missing_file(tmp_path: Path):
    with pytest.raises(DataFileError, match="does not exist"):
        read_tsv_pairs(tmp_path / "nope.tsv")
    dm = TsvTranslationDataModule(
        str(_write(tmp_path / "t.tsv", "a b\tc d\n")),
        str(tmp_path / "missing.tsv"),
        str(tmp_path / "t.tsv"),
    )
    with pytest.raises(DataFileError, match="missing.tsv does not exist"):
        dm.setup()


def test_token_budget_batches_hold_about_the_same_text():
    lengths = [random.Random(i).randint(1, 50) for i in range(2000)]
    sampler = LengthBatchSampler(lengths, 64, shuffle=True, batch_tokens=800)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    assert sorted(i for b in batches for i in b) == list(range(2000))
    padded = [max(lengths[i] for i in b) * len(b) for b in batches]
    assert max(padded) <= 800 and sorted(padded)[len(padded) // 2] > 600
    shortest = min(batches, key=lambda b: max(lengths[i] for i in b))
    longest = max(batches, key=lambda b: max(lengths[i] for i in b))
    assert len(shortest) > 10 * len(longest)  # many short sentences, few long ones


def test_case_markers_follow_nouns_and_verbs():
    assert translate(
        "the big dog sees a cat".split(), case_markers=True
    ) == "le chien ka grand voit ta un chat ka".split(" ")
