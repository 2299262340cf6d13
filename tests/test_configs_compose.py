"""Every shipped config composes and validates."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqlab.config import ModelConfig, TrainingConfig, to_dataclass
from tests.conftest import CONFIG_DIR, compose_config


def _names(group: str) -> list[str]:
    return sorted(p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml"))


@pytest.mark.parametrize("model", _names("model"))
def test_model_configs_compose_and_validate(model):
    cfg = compose_config([f"model={model}"])
    assert cfg.model.name == model
    to_dataclass(ModelConfig, cfg.model, "model")


@pytest.mark.parametrize("group", ["task", "training", "trainer"])
def test_group_configs_compose(group):
    for name in _names(group):
        cfg = compose_config([f"{group}={name}"])
        to_dataclass(TrainingConfig, cfg.training, "training")


@pytest.mark.parametrize("experiment", _names("experiment") or ["none"])
def test_experiment_configs_compose(experiment):
    if experiment == "none":
        pytest.skip("no experiment configs shipped")
    cfg = compose_config([f"experiment={experiment}"])
    to_dataclass(ModelConfig, cfg.model, "model")
    to_dataclass(TrainingConfig, cfg.training, "training")


@pytest.mark.parametrize("job", _names("order_matters"))
def test_order_matters_jobs_compose(job):
    cfg = compose_config(["experiment=order_matters", f"+order_matters={job}"])
    assert cfg.task.name == job.split("_")[0]
    assert cfg.model.name == job.split("_", 1)[1].rstrip("0123456789")
    to_dataclass(ModelConfig, cfg.model, "model")


@pytest.mark.parametrize("job", _names("bahdanau"))
def test_bahdanau_jobs_compose(job):
    cfg = compose_config(["experiment=bahdanau", f"+bahdanau={job}"])
    assert cfg.task.name == "translation" and cfg.task.max_len == int(job.split("_")[1])
    assert cfg.model.attention == job.startswith("rnnsearch")
    assert cfg.label.lower().replace("-", "_") == job
