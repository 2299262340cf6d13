"""Validated configuration groups.

Hydra composes YAML from ``configs/``; the ``model`` and ``training`` groups are then turned
into these dataclasses, whose ``__post_init__`` rejects every bad value or contradiction
before any data is generated or any model is built. Each error says what is wrong and how to
fix it on the command line.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf

from seqlab.models.recurrent import CELLS, IMPLS, RECURRENT_INITS


class ConfigError(ValueError):
    """A configuration value or combination that seqlab refuses to run."""


MODEL_KINDS = ("recurrent", "seq2seq", "bow", "window")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "linear", "exponential", "inverse_sigmoid")


def _positive(owner: str, **values: float | int) -> None:
    for name, value in values.items():
        if value is None or value <= 0:
            raise ConfigError(f"{owner}.{name} must be > 0, got {value} (set {owner}.{name}=...)")


@dataclass
class ModelConfig:
    """The ``model`` group. One dataclass for every model; each kind reads its fields.

    kind: recurrent (per-position / sequence models), seq2seq (encoder-decoder), bow, window.
    cell: rnn | lstm | gru.  bidirectional: both directions (recurrent kind; encoder of seq2seq).
    impl: fused (PyTorch kernels) | explicit (seqlab's gate-level cells).
    forget_bias: initial LSTM forget-gate bias.  recurrent_init: default | orthogonal.
    attention: seq2seq with additive (Bahdanau) attention.
    decoder_bidirectional: always refused; present so asking for it gets a clear error.
    window: number of most recent tokens the window model sees.
    """

    name: str = "lstm"
    kind: str = "recurrent"
    cell: str = "lstm"
    bidirectional: bool = False
    embedding_size: int = 64
    hidden_size: int = 128
    layers: int = 1
    dropout: float = 0.0
    impl: str = "fused"
    forget_bias: float = 1.0
    recurrent_init: str = "default"
    recurrent_gain: float = 1.0
    attention: bool = False
    attention_size: int = 128
    decoder_bidirectional: bool = False
    window: int = 5
    mlp_hidden: int = 128
    pooling: str = "last"

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ConfigError(f"model.kind={self.kind!r} is unknown; choose one of {MODEL_KINDS}")
        if self.cell not in CELLS:
            raise ConfigError(
                f"model.cell={self.cell!r} is unknown; choose one of {', '.join(CELLS)} "
                f"(e.g. model.cell=gru)"
            )
        if self.impl not in IMPLS:
            raise ConfigError(f"model.impl={self.impl!r} is unknown; choose one of {IMPLS}")
        if self.recurrent_init not in RECURRENT_INITS:
            raise ConfigError(
                f"model.recurrent_init={self.recurrent_init!r} is unknown; "
                f"choose one of {RECURRENT_INITS}"
            )
        _positive(
            "model",
            embedding_size=self.embedding_size,
            hidden_size=self.hidden_size,
            layers=self.layers,
            attention_size=self.attention_size,
            window=self.window,
            mlp_hidden=self.mlp_hidden,
            recurrent_gain=self.recurrent_gain,
        )
        if self.pooling not in ("last", "mean", "max"):
            raise ConfigError(
                f"model.pooling={self.pooling!r} is unknown; choose one of last, mean, max"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"model.dropout must be in [0, 1), got {self.dropout}")
        if not math.isfinite(self.forget_bias):
            raise ConfigError(f"model.forget_bias must be finite, got {self.forget_bias}")
        if self.decoder_bidirectional:
            raise ConfigError(
                "a decoder cannot be bidirectional: it generates left to right and the future "
                "tokens do not exist yet. Use model.bidirectional=true for the encoder instead."
            )


@dataclass
class ScheduledSamplingConfig:
    """Bengio et al. 2015. ε_i is the probability of feeding the true previous token at
    training iteration i: constant ε = teacher_forcing; linear max(min_ratio, k − c·i);
    exponential k^i (k < 1); inverse_sigmoid k / (k + exp(i / k)) (k ≥ 1)."""

    schedule: str = "constant"
    k: float = 1.0
    c: float = 0.0
    min_ratio: float = 0.0

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ConfigError(
                f"training.scheduled_sampling.schedule={self.schedule!r} is unknown; "
                f"choose one of {', '.join(SCHEDULES)}"
            )
        if not 0.0 <= self.min_ratio <= 1.0:
            raise ConfigError(
                f"training.scheduled_sampling.min_ratio must be in [0, 1], got {self.min_ratio}"
            )
        if self.schedule == "exponential" and not 0.0 < self.k < 1.0:
            raise ConfigError(
                f"exponential schedule needs 0 < training.scheduled_sampling.k < 1, got {self.k}"
            )
        if self.schedule == "inverse_sigmoid" and self.k < 1.0:
            raise ConfigError(
                f"inverse_sigmoid schedule needs training.scheduled_sampling.k >= 1, got {self.k}"
            )
        if self.schedule == "linear" and self.c < 0:
            raise ConfigError(
                f"linear schedule needs training.scheduled_sampling.c >= 0, got {self.c}"
            )


@dataclass
class TrainingConfig:
    """The ``training`` group.

    clip_norm: rescale the gradient to this norm when larger (Pascanu et al. 2013).
    clip_value: clamp each gradient element to [-clip_value, clip_value].
    tbptt_steps: null = full BPTT; k = truncated BPTT in chunks of k steps.
    teacher_forcing: per-token probability of feeding the true previous token (seq2seq).
    """

    optimizer: str = "adam"
    lr: float = 3e-3
    weight_decay: float = 0.0
    momentum: float = 0.0
    clip_norm: float | None = None
    clip_value: float | None = None
    tbptt_steps: int | None = None
    teacher_forcing: float = 1.0
    scheduled_sampling: ScheduledSamplingConfig = field(default_factory=ScheduledSamplingConfig)

    def __post_init__(self) -> None:
        if isinstance(self.scheduled_sampling, dict):
            self.scheduled_sampling = ScheduledSamplingConfig(**self.scheduled_sampling)
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"training.optimizer={self.optimizer!r} is unknown; choose one of {OPTIMIZERS}"
            )
        _positive("training", lr=self.lr)
        if self.weight_decay < 0 or self.momentum < 0:
            raise ConfigError("training.weight_decay and training.momentum must be >= 0")
        if self.clip_norm is not None and self.clip_norm <= 0:
            raise ConfigError(
                f"training.clip_norm must be > 0 (or null for no clipping), got {self.clip_norm}"
            )
        if self.clip_value is not None and self.clip_value <= 0:
            raise ConfigError(
                f"training.clip_value must be > 0 (or null for no clipping), got {self.clip_value}"
            )
        if self.tbptt_steps is not None and self.tbptt_steps <= 0:
            raise ConfigError(
                f"training.tbptt_steps must be a positive number of steps, or null for full "
                f"BPTT; got {self.tbptt_steps}"
            )
        if not 0.0 <= self.teacher_forcing <= 1.0:
            raise ConfigError(
                f"training.teacher_forcing is a probability and must be in [0, 1], "
                f"got {self.teacher_forcing}"
            )


T = TypeVar("T")


def to_dataclass(cls: type[T], node: DictConfig | dict[str, Any], group: str) -> T:
    """Build ``cls`` from a config node, naming unknown keys instead of a bare TypeError."""
    values = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node
    assert isinstance(values, dict)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"unknown key(s) in the {group} config: {', '.join(unknown)}; "
            f"known keys: {', '.join(sorted(known))}"
        )
    return cls(**values)


def check_single_device(trainer: DictConfig | dict[str, Any]) -> None:
    """seqlab trains in one process on one device: its batch samplers (token budgets, length
    grouping, whole-batch slicing) are not sharded across processes, so a multi-device
    (DDP) run would train each process on every batch. Refuse it before anything starts."""
    devices = trainer.get("devices", 1)
    nodes = trainer.get("num_nodes", 1)
    if isinstance(devices, (int, str)):
        # "auto" means one device on a CPU run, every GPU on a GPU run
        single = devices in (1, "1") or (devices == "auto" and trainer.get("accelerator") == "cpu")
    else:  # a list of device indices
        single = len(devices) == 1
    if not single or nodes not in (1, None):
        raise ConfigError(
            f"trainer.devices={devices} (num_nodes={nodes}): seqlab trains on one device; "
            f"multi-device (DDP) training is not supported yet. Use trainer.devices=1 "
            f"(trainer=gpu uses one GPU)."
        )
