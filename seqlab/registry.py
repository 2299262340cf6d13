"""The one place that maps config names to classes, and refuses invalid model × task pairs."""

from __future__ import annotations

import inspect
from typing import Any

import lightning as L
from omegaconf import DictConfig, OmegaConf
from torch import nn

from seqlab.config import ConfigError, ModelConfig, TrainingConfig
from seqlab.objectives.base import SeqlabObjective
from seqlab.objectives.per_step import PerStepObjective
from seqlab.tasks.base import PER_STEP, SEQ2SEQ, SEQUENCE, TaskSpec
from seqlab.tasks.copy import CopyDataModule

TASKS: dict[str, type[L.LightningDataModule]] = {"copy": CopyDataModule}

# Which output shapes each model kind can produce.
MODEL_OUTPUTS: dict[str, tuple[str, ...]] = {"recurrent": (PER_STEP,)}

OBJECTIVES: dict[str, type[SeqlabObjective]] = {PER_STEP: PerStepObjective}

_OUTPUT_WORDS = {
    PER_STEP: "one output per input step",
    SEQUENCE: "one label per sequence",
    SEQ2SEQ: "an output sequence (an encoder-decoder)",
}


def task_names() -> list[str]:
    return sorted(TASKS)


def check_combination(model: ModelConfig, training: TrainingConfig, task: str) -> None:
    """Raise ConfigError for a model × task × training combination seqlab cannot run."""
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; choose one of {', '.join(task_names())}")
    if model.kind not in MODEL_OUTPUTS:
        raise ConfigError(f"model kind {model.kind!r} is not available in this version of seqlab")
    if training.tbptt_steps is not None and model.kind == "recurrent" and model.bidirectional:
        raise ConfigError(
            "truncated BPTT (training.tbptt_steps) cannot be used with a bidirectional model: "
            "its backward direction needs the whole sequence before the first output. Use "
            "training.tbptt_steps=null or a unidirectional model (model=lstm|gru|vanilla)."
        )


def task_output(task: str, model: ModelConfig) -> str:
    """The output shape a task gives this model (copy serves per-step and seq2seq models)."""
    return PER_STEP


def build_datamodule(task_cfg: DictConfig, model: ModelConfig) -> L.LightningDataModule:
    """Instantiate the task's data module from its config (all keys but ``name``)."""
    options: dict[str, Any] = OmegaConf.to_container(task_cfg, resolve=True)  # type: ignore[assignment]
    name = options.pop("name")
    for key in ("stop_when", "monitor", "monitor_mode"):  # read by the trainer, not the data
        options.pop(key, None)
    cls = TASKS[name]
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ConfigError(
            f"unknown key(s) for task {name}: {', '.join(unknown)}; known: {', '.join(sorted(accepted))}"
        )
    try:
        return cls(**options)
    except ValueError as error:
        raise ConfigError(str(error)) from error


def build_model(model: ModelConfig, spec: TaskSpec) -> nn.Module:
    """A plain nn.Module for this model config and task spec."""
    if spec.output not in MODEL_OUTPUTS.get(model.kind, ()):
        wanted = _OUTPUT_WORDS[spec.output]
        fitting = sorted(k for k, outs in MODEL_OUTPUTS.items() if spec.output in outs)
        raise ConfigError(
            f"model={model.name} cannot be trained on task={spec.name}: the task needs "
            f"{wanted}. Model kinds that can: {', '.join(fitting) or 'none'}."
        )
    if spec.output == PER_STEP and model.kind == "recurrent":
        from seqlab.models.per_step import RecurrentTagger

        return RecurrentTagger(
            vocab_size=spec.vocab_size,
            num_classes=spec.num_classes,
            cell=model.cell,
            embedding_size=model.embedding_size,
            hidden_size=model.hidden_size,
            layers=model.layers,
            bidirectional=model.bidirectional,
            dropout=model.dropout,
            impl=model.impl,
            forget_bias=model.forget_bias,
            recurrent_init=model.recurrent_init,
            recurrent_gain=model.recurrent_gain,
        )
    raise ConfigError(f"no model for kind {model.kind} and output {spec.output}")


def build_objective(model: nn.Module, training: TrainingConfig, spec: TaskSpec) -> SeqlabObjective:
    if training.tbptt_steps is not None and not spec.fixed_length:
        raise ConfigError(
            f"training.tbptt_steps needs a task whose sequences all have the same length; "
            f"task={spec.name} pads variable-length sequences. Use training.tbptt_steps=null."
        )
    return OBJECTIVES[spec.output](model, training, spec)
