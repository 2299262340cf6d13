"""Every bad model / training value is refused with a message that says how to fix it."""

from __future__ import annotations

import pytest

from seqlab.config import (
    ConfigError,
    ModelConfig,
    TrainingConfig,
    check_single_device,
    to_dataclass,
)
from seqlab.registry import check_combination


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hidden_size", 0, "model.hidden_size must be > 0"),
        ("embedding_size", -3, "model.embedding_size must be > 0"),
        ("layers", 0, "model.layers must be > 0"),
        ("dropout", 1.0, r"model.dropout must be in \[0, 1\)"),
        ("dropout", -0.1, r"model.dropout must be in \[0, 1\)"),
        ("cell", "lstmm", "model.cell='lstmm' is unknown; choose one of rnn, lstm, gru"),
        ("impl", "cuda", "model.impl='cuda' is unknown"),
        ("recurrent_init", "xavier", "model.recurrent_init='xavier' is unknown"),
        ("decoder_bidirectional", True, "a decoder cannot be bidirectional"),
    ],
)
def test_bad_model_values(field, value, message):
    with pytest.raises(ConfigError, match=message):
        ModelConfig(**{field: value})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tbptt_steps", 0, "training.tbptt_steps must be a positive number"),
        ("tbptt_steps", -5, "training.tbptt_steps must be a positive number"),
        ("clip_norm", 0.0, "training.clip_norm must be > 0"),
        ("clip_value", -1.0, "training.clip_value must be > 0"),
        ("lr", 0.0, "training.lr must be > 0"),
        ("optimizer", "adagrad", "training.optimizer='adagrad' is unknown"),
        ("teacher_forcing", 1.5, r"must be in \[0, 1\]"),
    ],
)
def test_bad_training_values(field, value, message):
    with pytest.raises(ConfigError, match=message):
        TrainingConfig(**{field: value})


def test_unknown_keys_are_named():
    with pytest.raises(ConfigError, match="unknown key.*hiden_size"):
        to_dataclass(ModelConfig, {"hiden_size": 3}, "model")


def test_bidirectional_with_tbptt_is_refused():
    with pytest.raises(ConfigError, match="backward direction needs the whole sequence"):
        check_combination(
            ModelConfig(name="bi", bidirectional=True), TrainingConfig(tbptt_steps=10), "copy"
        )


@pytest.mark.parametrize(
    "trainer",
    [
        {"accelerator": "cpu", "devices": 1},
        {"accelerator": "gpu", "devices": "1"},
        {"accelerator": "gpu", "devices": [3]},
        {"accelerator": "cpu", "devices": "auto"},
    ],
)
def test_one_device_is_accepted(trainer):
    check_single_device(trainer)


@pytest.mark.parametrize(
    "trainer",
    [
        {"accelerator": "cpu", "devices": 2},
        {"accelerator": "gpu", "devices": [0, 1]},
        {"accelerator": "gpu", "devices": "auto"},
        {"accelerator": "gpu", "devices": -1},
        {"accelerator": "cpu", "devices": 1, "num_nodes": 2},
    ],
)
def test_multi_device_training_is_refused(trainer):
    with pytest.raises(ConfigError, match="seqlab trains on one device"):
        check_single_device(trainer)
