"""Teacher-forcing schedules of scheduled sampling (Bengio et al. 2015) and the training
options that configure them."""

from __future__ import annotations

import math

import pytest

from seqlab.errors import ConfigError
from seqlab.objectives.schedules import teacher_forcing_ratio
from seqlab.training import ScheduledSamplingConfig, TrainingConfig


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
