"""The one place that maps config names to classes, and refuses invalid model × task pairs."""

from __future__ import annotations

import inspect
from typing import Any

import lightning as L
from omegaconf import DictConfig, OmegaConf
from torch import nn

from seqlab.config import ConfigError, ModelConfig, TrainingConfig
from seqlab.objectives.base import SeqlabObjective
from seqlab.objectives.classification import ClassificationObjective
from seqlab.objectives.per_step import PerStepObjective
from seqlab.objectives.seq2seq import DecodingConfig, Seq2SeqObjective
from seqlab.tasks.base import PER_STEP, SEQ2SEQ, SEQUENCE, TaskSpec
from seqlab.tasks.copy import CopyDataModule, Seq2SeqCopyDataModule
from seqlab.tasks.sentiment import SentimentDataModule
from seqlab.tasks.tagging import TaggingDataModule
from seqlab.tasks.text_classification import TextTsvDataModule
from seqlab.tasks.translation import TranslationDataModule
from seqlab.tasks.tsv import TsvTranslationDataModule

# task name -> {output shape -> data module}. copy serves per-step and seq2seq models.
TASKS: dict[str, dict[str, type[L.LightningDataModule]]] = {
    "copy": {PER_STEP: CopyDataModule, SEQ2SEQ: Seq2SeqCopyDataModule},
    "translation": {SEQ2SEQ: TranslationDataModule},
    "tsv": {SEQ2SEQ: TsvTranslationDataModule},
    "sentiment": {SEQUENCE: SentimentDataModule},
    "text_tsv": {SEQUENCE: TextTsvDataModule},
    "tagging": {PER_STEP: TaggingDataModule},
}

# Which output shapes each model kind can produce.
MODEL_OUTPUTS: dict[str, tuple[str, ...]] = {
    "recurrent": (PER_STEP, SEQUENCE),
    "seq2seq": (SEQ2SEQ,),
    "bow": (SEQUENCE,),
    "window": (PER_STEP, SEQUENCE),
}

_OUTPUT_WORDS = {
    PER_STEP: "one output per input step",
    SEQUENCE: "one label per sequence",
    SEQ2SEQ: "an output sequence (an encoder-decoder)",
}


def task_names() -> list[str]:
    return sorted(TASKS)


def vocab_sizes_note(datamodule: Any) -> str:
    vocab = getattr(datamodule, "source_vocab", None)
    target = getattr(datamodule, "target_vocab", None)
    if vocab is None:
        return ""
    return f" vocab={len(vocab)}" + (f"/{len(target)}" if target is not None else "")


def check_combination(model: ModelConfig, training: TrainingConfig, task: str) -> None:
    """Raise ConfigError for a model × task × training combination seqlab cannot run."""
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; choose one of {', '.join(task_names())}")
    if model.kind not in MODEL_OUTPUTS:
        raise ConfigError(f"model kind {model.kind!r} is not available in this version of seqlab")
    task_output(task, model)  # raises for a model that cannot produce what the task needs
    if training.tbptt_steps is not None and model.kind != "recurrent":
        raise ConfigError(
            f"training.tbptt_steps applies to recurrent per-step models (vanilla, lstm, gru); "
            f"model={model.name} has no hidden state to carry. Use training.tbptt_steps=null."
        )
    if training.tbptt_steps is not None and model.kind == "recurrent" and model.bidirectional:
        raise ConfigError(
            "truncated BPTT (training.tbptt_steps) cannot be used with a bidirectional model: "
            "its backward direction needs the whole sequence before the first output. Use "
            "training.tbptt_steps=null or a unidirectional model (model=lstm|gru|vanilla)."
        )


def task_output(task: str, model: ModelConfig) -> str:
    """The output shape a task gives this model (copy serves per-step and seq2seq models)."""
    offered = TASKS[task]
    for output in MODEL_OUTPUTS[model.kind]:
        if output in offered:
            return output
    wanted = " or ".join(_OUTPUT_WORDS[o] for o in offered)
    fitting = sorted(
        {n for n, k in _MODEL_NAMES.items() if set(MODEL_OUTPUTS.get(k, ())) & set(offered)}
    )
    raise ConfigError(
        f"model={model.name} cannot be trained on task={task}: the task needs {wanted}. "
        f"Models that can: {', '.join(fitting)}."
    )


# Shipped model configs and their kinds, for error messages.
_MODEL_NAMES = {
    "vanilla": "recurrent",
    "lstm": "recurrent",
    "gru": "recurrent",
    "bi": "recurrent",
    "seq2seq": "seq2seq",
    "seq2seq_attention": "seq2seq",
    "bow": "bow",
    "window": "window",
}


def build_datamodule(task_cfg: DictConfig, model: ModelConfig) -> L.LightningDataModule:
    """Instantiate the task's data module from its config (all keys but ``name``)."""
    options: dict[str, Any] = OmegaConf.to_container(task_cfg, resolve=True)  # type: ignore[assignment]
    name = options.pop("name")
    for key in ("stop_when", "monitor", "monitor_mode"):  # read by the trainer, not the data
        options.pop(key, None)
    cls = TASKS[name][task_output(name, model)]
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ConfigError(
            f"unknown key(s) for task {name}: {', '.join(unknown)}; "
            f"known: {', '.join(sorted(accepted))}"
        )
    try:
        return cls(**options)
    except ValueError as error:  # DataFileError is a ValueError too
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
    recurrent = dict(
        cell=model.cell,
        embedding_size=model.embedding_size,
        hidden_size=model.hidden_size,
        layers=model.layers,
        dropout=model.dropout,
        impl=model.impl,
        forget_bias=model.forget_bias,
        recurrent_init=model.recurrent_init,
        recurrent_gain=model.recurrent_gain,
    )
    if spec.output == PER_STEP and model.kind == "recurrent":
        from seqlab.models.per_step import RecurrentTagger

        return RecurrentTagger(
            spec.vocab_size, spec.num_classes, bidirectional=model.bidirectional, **recurrent
        )
    if spec.output == SEQUENCE and model.kind == "recurrent":
        from seqlab.models.classifier import RecurrentClassifier

        return RecurrentClassifier(
            spec.vocab_size,
            spec.num_classes,
            bidirectional=model.bidirectional,
            pooling=model.pooling,
            **recurrent,
        )
    if model.kind == "bow":
        from seqlab.models.baselines import BagOfWords

        return BagOfWords(
            spec.vocab_size, spec.num_classes, model.embedding_size, model.mlp_hidden, model.dropout
        )
    if model.kind == "window":
        from seqlab.models.baselines import WindowMLP

        return WindowMLP(
            spec.vocab_size,
            spec.num_classes,
            model.window,
            model.embedding_size,
            model.mlp_hidden,
            model.dropout,
            per_step=spec.output == PER_STEP,
        )
    if spec.output == SEQ2SEQ and model.kind == "seq2seq":
        from seqlab.models.seq2seq import Seq2Seq

        return Seq2Seq(
            spec.vocab_size,
            spec.num_classes,
            bidirectional=model.bidirectional,
            attention=model.attention,
            attention_size=model.attention_size,
            **recurrent,
        )
    raise ConfigError(f"no model for kind {model.kind} and output {spec.output}")


def build_objective(
    model: nn.Module,
    training: TrainingConfig,
    datamodule: Any,
    decoding: DecodingConfig | None = None,
) -> SeqlabObjective:
    spec: TaskSpec = datamodule.spec
    if training.tbptt_steps is not None and not spec.fixed_length:
        raise ConfigError(
            f"training.tbptt_steps needs a per-step task whose sequences all have the same "
            f"length; task={spec.name} does not. Use training.tbptt_steps=null."
        )
    if spec.output == SEQ2SEQ:
        return Seq2SeqObjective(
            model,
            training,
            spec,
            datamodule.source_vocab,  # type: ignore[arg-type]
            datamodule.target_vocab,
            decoding or DecodingConfig(),
        )
    if spec.output == PER_STEP:
        return PerStepObjective(model, training, spec)
    if spec.output == SEQUENCE:
        return ClassificationObjective(model, training, spec)
    raise ConfigError(f"no objective for output {spec.output}")
