"""The ``callbacks`` group: which checkpoint is best, when to stop early; and the Lightning
callbacks seqlab adds to every run."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

from seqlab.checkpointing import RESUME_DIR, Preemption, ResumeCheckpoints, TrackDataPosition
from seqlab.config import require_choice, store_schema
from seqlab.errors import ConfigError
from seqlab.spec import TaskSpec
from seqlab.tasks.batching import count_tokens


@dataclass
class CallbacksConfig:
    """monitor / monitor_mode: the validation metric (and min | max) that picks the best
    checkpoint, the one tested at the end. stop_when_solved: stop once validation meets the
    task's own criterion (copy: val/recall_acc >= 0.995; its seq2seq form: val/exact_match
    >= 0.995; sentiment: val/acc >= 0.999; the other tasks have none). patience: also stop
    after this many validations without improvement of ``monitor`` (null = never).
    resume_every_n_steps / resume_every_minutes: write a resumable checkpoint every this many
    optimizer steps or minutes, whichever comes first (null turns either off);
    resume_keep: how many of them to keep (the newest)."""

    monitor: str = "val/ce"
    monitor_mode: str = "min"
    stop_when_solved: bool = True
    patience: int | None = None
    resume_every_n_steps: int | None = 1000
    resume_every_minutes: float | None = 10.0
    resume_keep: int = 2

    def __post_init__(self) -> None:
        require_choice("callbacks.monitor_mode", self.monitor_mode, ("min", "max"))
        for key in ("patience", "resume_every_n_steps"):
            value = getattr(self, key)
            if value is not None and value < 1:
                raise ConfigError(f"callbacks.{key} must be >= 1 or null, got {value}")
        if self.resume_every_minutes is not None and not self.resume_every_minutes > 0:
            raise ConfigError(
                f"callbacks.resume_every_minutes must be > 0 or null, got "
                f"{self.resume_every_minutes}"
            )
        if self.resume_keep < 1:
            raise ConfigError(f"callbacks.resume_keep must be >= 1, got {self.resume_keep}")


def check_monitored_metrics(config: CallbacksConfig, available: list[str]) -> None:
    """``monitor`` must be one of the validation metrics the run will log."""
    if config.monitor not in available:
        raise ConfigError(
            f"callbacks.monitor={config.monitor} is not logged by this task and model; "
            f"choose one of {', '.join(available)}"
        )


@dataclass
class RunCallbacks:
    """Every callback of a run (``all``), and those train.py reads from."""

    checkpoint: ModelCheckpoint
    throughput: TrainingThroughput
    preemption: Preemption
    all: list[L.Callback] = field(default_factory=list)


def build_callbacks(config: CallbacksConfig, spec: TaskSpec, run_dir: Path) -> RunCallbacks:
    """The best-checkpoint and early-stopping callbacks the config asks for, the resumable
    checkpoints, throughput, and seqlab's bookkeeping."""
    checkpoint = ModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        filename="best-{epoch}-{step}",
        monitor=config.monitor,
        mode=config.monitor_mode,
        save_last=True,
        save_top_k=1,
    )
    throughput = TrainingThroughput()
    resumable = ResumeCheckpoints(
        run_dir / "checkpoints" / RESUME_DIR,
        config.resume_every_n_steps,
        config.resume_every_minutes,
        config.resume_keep,
    )
    preemption = Preemption(resumable, run_dir)
    callbacks: list[L.Callback] = [checkpoint, throughput, FlushStepScalarsOnError()]
    if config.stop_when_solved and spec.solved_when is not None:
        metric, threshold = spec.solved_when
        callbacks.append(
            EarlyStopping(
                monitor=metric,
                mode="max",
                stopping_threshold=threshold,
                patience=10**9,
                check_on_train_epoch_end=False,
            )
        )
    if config.patience is not None:
        callbacks.append(
            EarlyStopping(
                monitor=config.monitor,
                mode=config.monitor_mode,
                patience=config.patience,
                check_on_train_epoch_end=False,
            )
        )
    callbacks += [TrackDataPosition(), resumable, preemption]
    return RunCallbacks(checkpoint, throughput, preemption, callbacks)


class TrainingThroughput(L.Callback):
    """Measures training tokens per second: tokens in training batches over the wall time
    spent inside training batches (forward, backward, optimizer; not validation)."""

    def __init__(self) -> None:
        self.tokens = 0
        self.seconds = 0.0
        self._start = 0.0

    def on_train_batch_start(
        self, trainer: L.Trainer, module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        self.seconds += time.perf_counter() - self._start
        self.tokens += count_tokens(batch)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    def state_dict(self) -> dict[str, Any]:
        """Saved in checkpoints, so a resumed run reports tokens/s over all of its training."""
        return {"tokens": self.tokens, "seconds": self.seconds}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.tokens, self.seconds = int(state["tokens"]), float(state["seconds"])


class FlushStepScalarsOnError(L.Callback):
    """Writes the per-step scalars still buffered in the objective when training stops on an
    exception (Ctrl-C included), before Lightning finalises the loggers."""

    def on_exception(
        self, trainer: L.Trainer, module: L.LightningModule, exception: BaseException
    ) -> None:
        flush = getattr(module, "flush_step_scalars", None)
        if flush is not None:
            flush()


store_schema("callbacks", "callbacks", CallbacksConfig)
