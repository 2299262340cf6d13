"""Typed configs: a node becomes a validated instance of its schema, every problem named by
its key; ``_target_`` names a config class of the right group."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from seqlab.config.checks import require_at_least, require_choice, require_positive
from seqlab.config.schema import (
    ModelConfig,
    TaskConfig,
    build_config,
    instantiate_config,
    target_class,
)
from seqlab.config.training import TrainingConfig
from seqlab.engine.callbacks import CallbacksConfig
from seqlab.engine.runtime import RuntimeConfig
from seqlab.errors import ConfigError
from seqlab.models.rnn import RNNConfig
from seqlab.tasks.copy import CopyConfig


def test_a_node_becomes_its_schema_with_defaults_filled_in():
    config = build_config({"cell": "gru", "hidden_size": "16"}, "model", RNNConfig)
    assert isinstance(config, RNNConfig)
    assert config.cell == "gru" and config.hidden_size == 16 and config.embedding_size == 32


def test_nested_nodes_become_nested_dataclasses():
    config = build_config(
        {"scheduled_sampling": {"schedule": "linear", "c": 0.1}}, "training", TrainingConfig
    )
    assert config.scheduled_sampling.schedule == "linear" and config.scheduled_sampling.k == 1.0
    copy = build_config({"seq2seq": {"max_len": 7}}, "task", CopyConfig)
    assert copy.seq2seq.max_len == 7 and copy.seq2seq.test_max_len == 30


@pytest.mark.parametrize(
    ("schema", "group", "node", "message"),
    [
        (
            RNNConfig,
            "model",
            {"hiden_size": 3},
            r"unknown key model.hiden_size \(did you mean model.hidden_size\?\)",
        ),
        (
            RNNConfig,
            "model",
            {"hidden_size": "abc"},
            "model.hidden_size: Value 'abc' of type 'str' could not be converted to Integer",
        ),
        (TrainingConfig, "training", {"lr": "fast"}, "training.lr: Value 'fast'"),
        (TrainingConfig, "training", {"clip_norm": "x"}, "training.clip_norm: Value 'x'"),
        (
            TrainingConfig,
            "training",
            {"scheduled_sampling": {"kk": 1}},
            "unknown key training.scheduled_sampling.kk",
        ),
        (CopyConfig, "task", {"delay": "ten"}, "task.delay: Value 'ten'"),
        (CopyConfig, "task", {"dealy": 3}, r"unknown key task.dealy \(did you mean task.delay\?\)"),
        (CallbacksConfig, "callbacks", {"patience": "soon"}, "callbacks.patience: Value 'soon'"),
        (RuntimeConfig, "runtime", {"threads": 1.5}, "runtime.threads"),
    ],
)
def test_types_and_unknown_keys_are_named(schema, group, node, message):
    with pytest.raises(ConfigError, match=message):
        build_config(OmegaConf.create(node), group, schema)


def test_validation_of_the_schema_itself_runs():
    with pytest.raises(ConfigError, match="model.hidden_size must be > 0"):
        build_config({"hidden_size": 0}, "model", RNNConfig)


@pytest.mark.parametrize(
    ("node", "base", "message"),
    [
        ({"cell": "gru"}, ModelConfig, "the model config has no _target_"),
        (
            {"_target_": "seqlab.models.nothing.Here"},
            ModelConfig,
            "model._target_=seqlab.models.nothing.Here is refused",
        ),
        ({"_target_": "seqlab.tasks.copy.CopyConfig"}, ModelConfig, "model._target_=.* is refused"),
        ({"_target_": "collections.OrderedDict"}, TaskConfig, "is refused"),
        # an extension module may declare both kinds: the class must still be of the group
        (
            {"_target_": "tests.extension.toy.PreviousTokenConfig"},
            ModelConfig,
            "not a model config",
        ),
    ],
)
def test_target_must_name_a_config_class_of_the_group(node, base, message, monkeypatch):
    monkeypatch.setenv("SEQLAB_EXTENSIONS", "tests.extension.toy")
    group = "model" if base is ModelConfig else "task"
    with pytest.raises(ConfigError, match=message):
        target_class(node, group, base)


def test_instantiate_config_uses_the_target_class():
    config = instantiate_config(
        {"_target_": "seqlab.tasks.copy.CopyConfig", "delay": 4}, "task", TaskConfig
    )
    assert isinstance(config, CopyConfig) and config.delay == 4


def test_value_checks():
    with pytest.raises(ConfigError, match=r"model.size must be > 0, got 0 \(set model.size=...\)"):
        require_positive("model", size=0)
    with pytest.raises(ConfigError, match="task.n must be >= 2, got 1"):
        require_at_least("task", 2, n=1)
    with pytest.raises(ConfigError, match=r"x.y='c' is unknown; choose one of a, b \(e.g. x.y=a\)"):
        require_choice("x.y", "c", ("a", "b"), example="a")
    require_choice("x.y", "a", ("a", "b"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tbptt_steps", 0, "training.tbptt_steps must be a positive number"),
        ("tbptt_steps", -5, "training.tbptt_steps must be a positive number"),
        ("clip_norm", 0.0, "training.clip_norm must be > 0"),
        ("clip_value", -1.0, "training.clip_value must be > 0"),
        ("lr", 0.0, "training.lr must be > 0"),
        ("weight_decay", -1.0, "training.weight_decay and training.momentum must be >= 0"),
        ("optimizer", "adagrad", "training.optimizer='adagrad' is unknown"),
        ("teacher_forcing", 1.5, r"must be in \[0, 1\]"),
    ],
)
def test_bad_training_values(field, value, message):
    with pytest.raises(ConfigError, match=message):
        TrainingConfig(**{field: value})
