"""The ``callbacks`` group: which checkpoint is best, when to stop early; and the Lightning
callbacks seqlab adds to every run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

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
    after this many validations without improvement of ``monitor`` (null = never)."""

    monitor: str = "val/ce"
    monitor_mode: str = "min"
    stop_when_solved: bool = True
    patience: int | None = None

    def __post_init__(self) -> None:
        require_choice("callbacks.monitor_mode", self.monitor_mode, ("min", "max"))
        if self.patience is not None and self.patience < 1:
            raise ConfigError(f"callbacks.patience must be >= 1 or null, got {self.patience}")


def check_monitored_metrics(config: CallbacksConfig, available: list[str]) -> None:
    """``monitor`` must be one of the validation metrics the run will log."""
    if config.monitor not in available:
        raise ConfigError(
            f"callbacks.monitor={config.monitor} is not logged by this task and model; "
            f"choose one of {', '.join(available)}"
        )


def build_callbacks(
    config: CallbacksConfig, spec: TaskSpec, run_dir: Path
) -> tuple[list[L.Callback], ModelCheckpoint, TrainingThroughput]:
    """Every callback of a run, and the two whose results go into results.json."""
    checkpoint = ModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        filename="best-{epoch}-{step}",
        monitor=config.monitor,
        mode=config.monitor_mode,
        save_last=True,
        save_top_k=1,
    )
    throughput = TrainingThroughput()
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
    return callbacks, checkpoint, throughput


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
