"""The synthetic language pair."""

from __future__ import annotations

import pytest

from seqlab.errors import ConfigError
from seqlab.tasks.translation import TranslationConfig, TranslationDataModule, translate


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


def _pairs(**options):
    texts = TranslationDataModule(TranslationConfig(**options)).make_texts()
    return {split: [(s.split(), t.split()) for s, t in pairs] for split, pairs in texts.items()}


def test_translation_splits_respect_length_ranges_and_seeds():
    options = dict(min_len=2, max_len=5, test_min_len=8, test_max_len=9, n_train=300, n_val=20)
    pairs = _pairs(n_test=50, **options)
    assert all(2 <= len(s) <= 5 for s, _ in pairs["train"])
    assert all(8 <= len(s) <= 9 for s, _ in pairs["test"])
    assert all(t == translate(s) for s, t in pairs["train"])
    assert _pairs(n_test=50, **options) == pairs
    with pytest.raises(ConfigError, match="task.min_len <= task.max_len"):
        TranslationConfig(min_len=5, max_len=2)


def test_translation_pool_keeps_the_short_sentences_of_the_same_corpus():
    options = dict(min_len=1, test_min_len=1, test_max_len=9, n_train=400, n_val=20, n_test=20)
    full = _pairs(max_len=20, **options)["train"]
    subset = _pairs(max_len=8, pool_max_len=20, **options)["train"]
    assert subset == [pair for pair in full if len(pair[0]) <= 8]  # the same draws, filtered
    assert 0.25 * len(full) < len(subset) < 0.6 * len(full)
    with pytest.raises(ConfigError, match="task.pool_max_len"):
        TranslationConfig(max_len=20, pool_max_len=10)


def test_case_markers_follow_nouns_and_verbs():
    assert translate(
        "the big dog sees a cat".split(), case_markers=True
    ) == "le chien ka grand voit ta un chat ka".split(" ")


def test_spec_carries_the_vocabularies():
    dm = TranslationDataModule(TranslationConfig(n_train=50, n_val=5, n_test=5, max_len=6))
    dm.setup()
    spec = dm.spec
    assert spec.source_vocab is dm.source_vocab and spec.target_vocab is dm.target_vocab
    assert spec.vocab_size == len(dm.source_vocab) and spec.vocab_note().startswith(" vocab=")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_tokens": 0}, "task.batch_tokens must be >= 1 or null"),
        ({"max_vocab": 0}, "task.max_vocab must be >= 1 or null"),
        ({"min_freq": 0}, "task.min_freq must be >= 1"),
        ({"n_val": 0}, "task.n_val must be >= 1"),
        ({"test_min_len": 3, "test_max_len": 1}, "need 1 <= task.test_min_len"),
    ],
)
def test_bad_values_are_refused(options, message):
    with pytest.raises(ConfigError, match=message):
        TranslationConfig(**options)
