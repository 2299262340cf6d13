"""Teacher-forcing schedules of scheduled sampling (Bengio et al. 2015) and the training
options that configure them."""

from __future__ import annotations

import math

import pytest

from seqlab.config.training import ScheduledSamplingConfig, TrainingConfig
from seqlab.errors import ConfigError
from seqlab.objectives.schedules import teacher_forcing_ratio


def test_schedules_follow_bengio_et_al():
    linear = ScheduledSamplingConfig("linear", k=1.0, c=0.01, min_ratio=0.2)
    assert teacher_forcing_ratio(0, 1.0, linear) == 1.0
    assert teacher_forcing_ratio(50, 1.0, linear) == pytest.approx(0.5)
    assert teacher_forcing_ratio(500, 1.0, linear) == 0.2
    exponential = ScheduledSamplingConfig("exponential", k=0.99)
    assert teacher_forcing_ratio(100, 1.0, exponential) == pytest.approx(0.99**100)
    inverse = ScheduledSamplingConfig("inverse_sigmoid", k=10.0)
    assert teacher_forcing_ratio(30, 1.0, inverse) == pytest.approx(10 / (10 + math.exp(3)))
    assert teacher_forcing_ratio(10**6, 1.0, inverse) == 0.0
    assert teacher_forcing_ratio(7, 0.75, ScheduledSamplingConfig()) == 0.75


def test_bad_schedules_are_refused():
    with pytest.raises(ConfigError, match="schedule='cosine' is unknown"):
        ScheduledSamplingConfig("cosine")
    with pytest.raises(ConfigError, match="0 < training.scheduled_sampling.k < 1"):
        ScheduledSamplingConfig("exponential", k=1.5)
    with pytest.raises(ConfigError, match=r"must be in \[0, 1\]"):
        TrainingConfig(teacher_forcing=-0.1)


def test_learning_rate_schedules():
    from seqlab.objectives.lr_schedules import lr_factor

    warm = lr_factor(TrainingConfig(lr=1.0, warmup_steps=4), None)
    assert [warm(s) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    inverse = lr_factor(TrainingConfig(lr_schedule="inverse_sqrt", warmup_steps=4), None)
    assert inverse(3) == 1.0 and inverse(15) == pytest.approx(0.5)  # sqrt(4 / 16)
    cosine = lr_factor(
        TrainingConfig(lr=0.1, lr_schedule="cosine", warmup_steps=2, min_lr=0.01), 12
    )
    assert cosine(2) == pytest.approx(1.0) and cosine(12) == pytest.approx(0.1)
    assert cosine(7) == pytest.approx((0.01 + 0.09 * 0.5) / 0.1)  # half way down


def test_the_rate_of_every_step_is_logged_and_plateaus_lower_it(tmp_path):
    import csv

    from tests.conftest import tiny, train

    run_dir = tmp_path / "cosine"
    train(
        [
            *tiny("lstm", "copy"),
            "training.lr_schedule=cosine",
            "training.warmup_steps=2",
            "trainer.max_epochs=2",
            "trainer.log_every_n_steps=1",
        ],
        run_dir,
    )
    rates = [
        float(r["train/lr"])
        for r in csv.DictReader((run_dir / "metrics.csv").open())
        if r.get("train/lr")
    ]
    assert rates[:2] == pytest.approx([0.0015, 0.003]) and rates[-1] < rates[2] and len(rates) == 6
    run_dir = tmp_path / "plateau"
    train(
        [
            *tiny("lstm", "copy"),
            "training.lr_schedule=plateau",
            "training.plateau_patience=0",
            "training.lr=1e-6",  # too small to improve val/ce: every validation is a plateau
            "trainer.max_epochs=3",
            "trainer.log_every_n_steps=1",
            "callbacks.stop_when_solved=false",
        ],
        run_dir,
    )
    rates = [
        float(r["train/lr"])
        for r in csv.DictReader((run_dir / "metrics.csv").open())
        if r.get("train/lr")
    ]
    # the first validation sets the best value, the second finds no improvement: halved
    assert rates == pytest.approx([1e-6] * 6 + [5e-7] * 3)
