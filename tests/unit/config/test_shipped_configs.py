"""Every shipped config composes and validates into objects; model and task yamls name their
class and list only what differs from its schema; every experiment job validates."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep
from hydra.utils import get_class
from omegaconf import OmegaConf

from seqlab.config.schema import ModelConfig, TaskConfig
from seqlab.engine.run import CONFIG_DIR, plan_run
from seqlab.engine.trainer import trainer_options
from seqlab.errors import ConfigError
from tests.conftest import TINY_TASK, compose_config

VALID_TASK = {
    "vanilla": "copy",
    "lstm": "copy",
    "gru": "copy",
    "bi": "tagging",
    "seq2seq": "translation",
    "seq2seq_attention": "translation",
    "bow": "sentiment",
    "window": "copy",
    "mingru": "lm",
    "minlstm": "sentiment",
}
VALID_MODEL = {
    "copy": "lstm",
    "translation": "seq2seq",
    "tsv": "seq2seq_attention",
    "sentiment": "bow",
    "text_tsv": "gru",
    "tagging": "bi",
    "lm": "vanilla",
    "selective_copy": "mingru",
}


def _names(group: str) -> list[str]:
    return sorted(p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml"))


def test_every_shipped_model_and_task_is_covered():
    assert set(_names("model")) == set(VALID_TASK) and set(_names("task")) == set(VALID_MODEL)


@pytest.mark.parametrize("model", _names("model"))
def test_model_configs_compose_and_validate(model):
    task = VALID_TASK[model]
    plan = plan_run(compose_config([f"model={model}", f"task={task}", *TINY_TASK[task]]))
    assert plan.model.name == model and isinstance(plan.model, ModelConfig)


@pytest.mark.parametrize("task", _names("task"))
def test_task_configs_compose_and_validate(task):
    plan = plan_run(
        compose_config([f"task={task}", f"model={VALID_MODEL[task]}", *TINY_TASK[task]])
    )
    assert plan.task.name == task and isinstance(plan.task, TaskConfig)


@pytest.mark.parametrize("group", ["model", "task"])
def test_yamls_name_their_class_and_list_only_what_differs(group):
    for name in _names(group):
        raw = OmegaConf.to_container(OmegaConf.load(Path(CONFIG_DIR) / group / f"{name}.yaml"))
        if group in raw:  # a global-package config (text_tsv): the group's part
            raw = {**raw[group], "defaults": [raw["defaults"][0].replace(f"@{group}", "@_here_")]}
        cls = get_class(raw["_target_"])
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        assert defaults["_target_"] == raw["_target_"], name  # the schema names itself
        assert raw["defaults"][0].endswith("@_here_"), name  # the schema holds the defaults
        for key, value in raw.items():
            if key not in ("defaults", "_target_", "name"):
                assert value != defaults[key], f"{group}/{name}.yaml repeats {key}={value}"


@pytest.mark.parametrize("trainer", _names("trainer"))
def test_trainer_configs_name_only_trainer_arguments(trainer):
    node = compose_config([f"trainer={trainer}"]).trainer
    if trainer == "gpu" and not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="PyTorch sees no GPU on this machine"):
            trainer_options(node)
        return
    options = trainer_options(node)
    assert options["_target_"] == "lightning.pytorch.Trainer"
    assert options["accelerator"] == ("gpu" if trainer == "gpu" else "cpu")


def test_training_and_callbacks_defaults_validate():
    plan = plan_run(compose_config([]))
    assert plan.training.lr == 3e-3 and plan.callbacks.monitor == "val/ce"
    assert plan.decoding.beam_size == 1 and plan.runtime.malloc_threshold == 1 << 30


def _experiment_jobs() -> list[tuple[str, str]]:
    jobs = []
    for experiment in _names("experiment"):
        with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
            cfg = compose("train", [f"experiment={experiment}"], return_hydra_config=True)
        for key, values in cfg.hydra.sweeper.params.items():
            jobs += [(experiment, f"{key}={value}") for value in _sweep_values(key, values)]
    return jobs


def _sweep_values(key: str, values: object) -> list[str]:
    """The values a sweep param takes: a comma list (basic sweeper), a choice(...), or the
    ends of an interval(...) (Optuna's search space)."""
    value = OverridesParser.create().parse_override(f"{key}={values}").value()
    if isinstance(value, ChoiceSweep):
        return ["null" if v is None else str(v) for v in value.list]
    if isinstance(value, IntervalSweep):
        return [str(value.start), str(value.end)]
    return [str(value)]


@pytest.mark.parametrize(("experiment", "job"), _experiment_jobs())
def test_every_experiment_job_composes_and_validates(experiment, job):
    plan = plan_run(compose_config([f"experiment={experiment}", job]))
    assert plan.model.name and plan.task.name


def test_bahdanau_jobs_are_the_four_models_of_figure_2():
    labels = {}
    for _, job in _experiment_jobs():
        if job.startswith("+bahdanau="):
            cfg = compose_config(["experiment=bahdanau", job])
            labels[cfg.label] = (cfg.model.attention, cfg.task.max_len)
    assert labels == {
        "RNNenc-30": ("none", 30),
        "RNNenc-50": ("none", 50),
        "RNNsearch-30": ("additive", 30),
        "RNNsearch-50": ("additive", 50),
    }


def test_slurm_launcher_config_asks_for_one_task_per_device():
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(
            "train",
            ["hydra/launcher=slurm", "trainer=gpu", "trainer.devices=2"],
            return_hydra_config=True,
        )
    launcher = cfg.hydra.launcher
    assert "SlurmLauncher" in launcher._target_
    assert launcher.tasks_per_node == 2 and launcher.gpus_per_node == 2
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cpu = compose("train", ["hydra/launcher=slurm"], return_hydra_config=True)
    assert cpu.hydra.launcher.gpus_per_node == 0 and cpu.hydra.launcher.tasks_per_node == 1
