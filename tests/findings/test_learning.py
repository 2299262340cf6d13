"""Learning tests (slow, bounded): the findings seqlab claims hold at small scale.

Seeds and budgets are fixed in each test; run with ``pytest -m slow``.
"""

from __future__ import annotations

import pytest

from seqlab.engine.run import run
from tests.conftest import compose_config

pytestmark = pytest.mark.slow


def test_lstm_learns_the_copy_task(tmp_path):
    """Default copy task (T=10, K=10, A=8), seed 0, at most 80 epochs: recall >= 0.99.

    An epoch budget, not a time budget: this test shares the machine with the other slow
    tests, and 3 minutes of half the CPU were not enough (recall 0.981). Alone, the main
    job stops solved after 51 epochs (1 min 51 s, 2026-12-05, 2-core Intel VM)."""
    cfg = compose_config(
        [
            "model=lstm",
            "task=copy",
            "seed=0",
            "trainer.max_epochs=80",
            "trainer.enable_progress_bar=false",
        ]
    )
    results = run(cfg, tmp_path)
    assert results["test/recall_acc"] >= 0.99
    assert results["test/ce"] < 0.1 * results["test/baseline_ce"]


def _bucket(results, lo):
    return next(b["bleu"] for b in results["test/bleu_by_length"] if b["lo"] == lo)


def test_fixed_context_degrades_with_length_and_attention_does_not(tmp_path):
    """Smaller Bahdanau: train on 1-30 words for 3 epochs each (seed 0), test on 1-30.
    The fixed vector loses at least 40% of its 1-10 BLEU by 21-30; attention keeps 85%.

    2026-12-05, 2-core Intel VM: fixed 89.4 / 39.7 / 21.6 by bucket, attention 100.0 /
    99.9 / 98.8, 23 s and 52 s. Epochs, not minutes: the result must not depend on the
    machine's load (the slow tests share the CPU)."""
    common = [
        "task=translation",
        "seed=0",
        "task.max_len=30",
        "task.test_max_len=30",
        "task.n_test=900",
        "training.lr=0.001",
        "training.clip_norm=1.0",
        "trainer.max_epochs=3",
        "trainer.enable_progress_bar=false",
    ]
    fixed = run(compose_config(["model=seq2seq", *common]), tmp_path / "enc")
    attention = run(compose_config(["model=seq2seq_attention", *common]), tmp_path / "search")
    assert _bucket(fixed, 21) <= 0.6 * _bucket(fixed, 1)
    assert _bucket(attention, 21) >= 0.85 * _bucket(attention, 1)
    assert _bucket(attention, 21) > _bucket(fixed, 21) + 20


def test_order_matters_at_small_scale(tmp_path):
    """Seed 0, 4 epochs per model (an epoch budget, so the machine's load cannot change the
    result; the LSTM and the bidirectional tagger are solved after the first): bag of words is
    at chance on the order-dependent pairs, an LSTM is not; on tagging a bidirectional LSTM
    beats a left-to-right one on ambiguous words."""
    budget = [
        "seed=0",
        "trainer.max_epochs=4",
        "trainer.enable_progress_bar=false",
        "model.embedding_size=32",
    ]
    bow = run(compose_config(["model=bow", "task=sentiment", *budget]), tmp_path / "bow")
    budget.append("model.hidden_size=64")
    lstm = run(compose_config(["model=lstm", "task=sentiment", *budget]), tmp_path / "lstm")
    assert abs(bow["test/acc_order_dependent"] - 0.5) <= 0.05
    assert lstm["test/acc_order_dependent"] >= 0.9
    uni = run(compose_config(["model=lstm", "task=tagging", *budget]), tmp_path / "uni")
    bi = run(compose_config(["model=bi", "task=tagging", *budget]), tmp_path / "bi")
    assert bi["test/acc_ambiguous"] >= uni["test/acc_ambiguous"] + 0.2
