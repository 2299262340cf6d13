"""Sentiment, text TSV, tagging, and the pre-RNN baselines."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from seqlab.models.baselines import BagOfWords, WindowMLP
from seqlab.models.classifier import RecurrentClassifier
from seqlab.tasks.sentiment import (
    SentimentDataModule,
    clause_label,
    example,
    order_pairs_are_consistent,
)
from seqlab.tasks.tagging import AMBIGUOUS, CUES, TAGS, WORDS, generate_tagging
from seqlab.tasks.text_classification import read_text_tsv
from seqlab.tasks.tsv import DataFileError


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
    dm = SentimentDataModule(n_train=50, n_val=10, n_test=10, n_order_pairs=100)
    test = dm.make_examples()["test"]
    focus = [e for e in test if e.focus]
    assert len(focus) == 200 and order_pairs_are_consistent(test)
    dm.setup()
    assert dm.spec.focus_metric == "acc_order_dependent" and dm.spec.num_classes == 2


def test_bag_of_words_is_blind_to_order():
    model = BagOfWords(20, 2, embedding_size=8, mlp_hidden=8)
    tokens = torch.tensor([[5, 6, 7, 8]])
    torch.testing.assert_close(model(tokens), model(tokens.flip(1)))


def test_window_sees_only_its_window():
    model = WindowMLP(20, 3, window=3, embedding_size=4, mlp_hidden=8, per_step=True)
    tokens = torch.randint(1, 20, (2, 10))
    changed = tokens.clone()
    changed[:, 2] = (changed[:, 2] % 19) + 1
    logits, _ = model(tokens)
    logits_changed, _ = model(changed)
    torch.testing.assert_close(logits[:, 5:], logits_changed[:, 5:])  # t >= 2 + 3 unaffected
    assert not torch.allclose(logits[:, 2:5], logits_changed[:, 2:5])
    classifier = WindowMLP(20, 3, window=2, embedding_size=4, mlp_hidden=8, per_step=False)
    lengths = torch.tensor([10, 4])
    padded = tokens.clone()
    padded[1, 4:] = 0
    out = classifier(padded, lengths)
    torch.testing.assert_close(out[1], classifier(tokens[1:2, 2:4], torch.tensor([2]))[0])


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_classifier_pooling_ignores_padding(pooling, bidirectional):
    model = RecurrentClassifier(
        20,
        2,
        cell="gru",
        embedding_size=6,
        hidden_size=5,
        bidirectional=bidirectional,
        pooling=pooling,
    )
    tokens = torch.randint(1, 20, (2, 7))
    lengths = torch.tensor([7, 4])
    tokens[1, 4:] = 0
    batched = model(tokens, lengths)
    alone = model(tokens[1:2, :4], torch.tensor([4]))
    torch.testing.assert_close(batched[1], alone[0], rtol=1e-5, atol=1e-5)


def test_tagging_ambiguous_words_take_the_sense_of_the_later_cue():
    data = generate_tagging(300, 20, 2, 3, torch.Generator().manual_seed(0))
    inputs, targets, focus = data["inputs"], data["targets"], data["focus"]
    assert int(focus.sum()) == 600
    for row, position in focus.nonzero().tolist():
        assert WORDS[inputs[row, position]] in AMBIGUOUS
        later = [WORDS[i] for i in inputs[row, position + 1 : position + 4]]
        sense = TAGS[targets[row, position]]
        assert any(w in CUES[sense] for w in later)
    with pytest.raises(ValueError, match="too short"):
        generate_tagging(1, 4, 2, 3, torch.Generator())


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_text_tsv_reads_names_and_integers(tmp_path: Path):
    f = _write(tmp_path / "a.tsv", "Great film\tpositive\nawful\tnegative\nok\t1\n")
    examples, names = read_text_tsv(f, None, lowercase=True)
    assert names == ["negative", "positive"]
    assert [e.label for e in examples] == [1, 0, 1] and examples[0].words == ["great", "film"]


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
        read_text_tsv(_write(tmp_path / "a.tsv", text), ["negative", "positive"], False)
