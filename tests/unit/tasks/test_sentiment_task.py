"""Synthetic sentiment: compositional labels and order-dependent pairs."""

from __future__ import annotations

import random

import pytest

from seqlab.errors import ConfigError
from seqlab.tasks.sentiment import (
    SentimentConfig,
    SentimentDataModule,
    clause_label,
    example,
    order_pairs_are_consistent,
)


def test_sentiment_labels_are_compositional():
    assert clause_label(positive_word=True, negated=False) == 1
    assert clause_label(positive_word=True, negated=True) == 0  # "not good"
    assert clause_label(positive_word=False, negated=True) == 1  # "not bad"
    rng = random.Random(0)
    for _ in range(200):
        words, label = example(rng, 10, contrast=True)
        after_but = words[words.index("but") + 1 :]
        positive = any(
            w in after_but
            for w in ("good", "great", "excellent", "fun", "moving", "clever", "superb", "lovely")
        )
        assert label == int(positive != ("not" in after_but))


def test_order_dependent_pairs_share_tokens_and_differ_in_label():
    dm = SentimentDataModule(SentimentConfig(n_train=50, n_val=10, n_test=10, n_order_pairs=100))
    test = dm.make_examples()["test"]
    focus = [e for e in test if e.focus]
    assert len(focus) == 200 and order_pairs_are_consistent(test)
    dm.setup()
    spec = dm.spec
    assert spec.focus_metric == "acc_order_dependent" and spec.num_classes == 2
    assert spec.solved_when == ("val/acc", 0.999) and spec.source_vocab is not None


def test_splits_are_reproducible():
    first = SentimentDataModule(SentimentConfig(n_train=30, n_val=5, n_test=5)).make_examples()
    again = SentimentDataModule(SentimentConfig(n_train=30, n_val=5, n_test=5)).make_examples()
    assert [e.words for e in first["train"]] == [e.words for e in again["train"]]
    assert [e.words for e in first["train"][:5]] != [e.words for e in first["val"]]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"min_len": 5, "max_len": 2}, "need 1 <= task.min_len <= task.max_len"),
        ({"contrast_rate": 1.5}, r"task.contrast_rate must be in \[0, 1\]"),
        ({"n_train": 0}, "task.n_train must be >= 1"),
        ({"n_order_pairs": -1}, "task.n_order_pairs must be >= 0"),
    ],
)
def test_bad_values_are_refused(options, message):
    with pytest.raises(ConfigError, match=message):
        SentimentConfig(**options)
