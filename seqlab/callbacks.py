"""Lightning callbacks seqlab adds to every run."""

from __future__ import annotations

import time
from typing import Any

import lightning as L

from seqlab.tasks.base import count_tokens


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
