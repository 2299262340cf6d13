"""The ``training`` group's schema: optimizer, clipping, truncated BPTT, teacher forcing and
scheduled sampling. Read by the objectives (seqlab/objectives/)."""

from __future__ import annotations

from dataclasses import dataclass, field

from seqlab.config.checks import require_choice, require_positive
from seqlab.errors import ConfigError

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
LR_SCHEDULES = ("none", "plateau", "inverse_sqrt", "cosine")
SCHEDULES = ("constant", "linear", "exponential", "inverse_sigmoid")


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
        require_choice("training.scheduled_sampling.schedule", self.schedule, SCHEDULES)
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
    """Training options.

    optimizer: adam | adamw | sgd | rmsprop, with lr, weight_decay, momentum (sgd, rmsprop).
    clip_norm: rescale the gradient to this L2 norm when larger (Pascanu et al. 2013).
    clip_value: clamp each gradient element to [-clip_value, clip_value] (before clip_norm).
    tbptt_steps: null = full BPTT; k = truncated BPTT in chunks of k steps (task=lm: the
    window over its text streams).
    tbptt_random_length: task=lm: AWD-LSTM's variable-length windows (k with probability 0.95,
    else k/2, then a normal draw of standard deviation 5 around it, at least 5).
    teacher_forcing: per-token probability of feeding the true previous token (seq2seq).
    scheduled_sampling: a schedule for that probability over optimizer steps.
    lr_schedule: none | plateau (multiply by plateau_factor after plateau_patience validations
    without improvement of callbacks.monitor) | inverse_sqrt (linear warmup over warmup_steps,
    then lr * sqrt(warmup_steps / step)) | cosine (linear warmup, then cosine down to min_lr
    over the run's budget of optimizer steps). warmup_steps also warms up ``none``.
    max_loss: a training loss above this is divergence and stops the run like a NaN (a loss
    can grow without bound and stay finite: lr=1e30 gives 3e30); null = 100 × ln(number of
    output classes), a hundred times the loss of a uniform guess.
    """

    optimizer: str = "adam"
    lr: float = 3e-3
    weight_decay: float = 0.0
    momentum: float = 0.0
    clip_norm: float | None = None
    clip_value: float | None = None
    tbptt_steps: int | None = None
    tbptt_random_length: bool = False
    teacher_forcing: float = 1.0
    scheduled_sampling: ScheduledSamplingConfig = field(default_factory=ScheduledSamplingConfig)
    lr_schedule: str = "none"
    warmup_steps: int = 0
    min_lr: float = 0.0
    plateau_factor: float = 0.5
    plateau_patience: int = 2
    max_loss: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.scheduled_sampling, dict):
            self.scheduled_sampling = ScheduledSamplingConfig(**self.scheduled_sampling)
        require_choice("training.optimizer", self.optimizer, OPTIMIZERS)
        require_positive("training", lr=self.lr)
        if self.max_loss is not None and not self.max_loss > 0:
            raise ConfigError(
                f"training.max_loss must be > 0 (or null: 100 × ln(classes)); got {self.max_loss}"
            )
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
        self._check_schedule()

    def _check_schedule(self) -> None:
        require_choice("training.lr_schedule", self.lr_schedule, LR_SCHEDULES, example="cosine")
        if self.warmup_steps < 0 or self.plateau_patience < 0:
            raise ConfigError("training.warmup_steps and training.plateau_patience must be >= 0")
        if not 0.0 <= self.min_lr < self.lr:
            raise ConfigError(
                f"training.min_lr must be >= 0 and below training.lr={self.lr}, got {self.min_lr}"
            )
        if not 0.0 < self.plateau_factor < 1.0:
            raise ConfigError(
                f"training.plateau_factor must be in (0, 1), got {self.plateau_factor}"
            )
        if self.lr_schedule == "inverse_sqrt" and self.warmup_steps < 1:
            raise ConfigError(
                "training.lr_schedule=inverse_sqrt needs training.warmup_steps >= 1 (e.g. 4000)"
            )
        if self.lr_schedule == "plateau" and self.warmup_steps:
            raise ConfigError(
                "training.warmup_steps applies to lr_schedule none, inverse_sqrt and cosine, "
                "not plateau"
            )
