"""The ``callbacks`` group: which checkpoint is best, when to stop early; and the Lightning
callbacks seqlab adds to every run."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import (
    EarlyStopping,
    ModelCheckpoint,
    RichProgressBar,
    Timer,
    TQDMProgressBar,
)
from lightning.pytorch.callbacks.progress.rich_progress import _RICH_AVAILABLE
from torch.utils.data import DataLoader

from seqlab.config.checks import require_at_least_or_null, require_choice
from seqlab.data.batching import ResumableBatches, TensorDictDataset, count_tokens
from seqlab.engine.checkpoint_io import RESUME_DIR, Preemption, ResumeCheckpoints, TrackDataPosition
from seqlab.errors import ConfigError
from seqlab.spec import TaskSpec


@dataclass
class CallbacksConfig:
    """monitor / monitor_mode: the validation metric (and min | max; auto = min for
    cross-entropies, max for accuracies and BLEU) that picks the best checkpoint, the one
    tested at the end, and that a plateau schedule and ``patience`` watch.
    stop_when_solved: stop once validation meets the task's own criterion (copy:
    val/recall_acc >= 0.995; its seq2seq form: val/exact_match >= 0.995; sentiment: val/acc
    >= 0.999; the other tasks have none). patience: also stop
    after this many validations without improvement of ``monitor`` (null = never).
    resume_every_n_steps / resume_every_minutes: write a resumable checkpoint every this many
    optimizer steps or minutes, whichever comes first (null turns either off);
    resume_keep: how many of them to keep (the newest). log_every_seconds: without a progress
    bar (output piped, CI=true) print a progress line this often, and one per validation
    (null = never)."""

    monitor: str = "val/ce"
    monitor_mode: str = "auto"
    stop_when_solved: bool = True
    patience: int | None = None
    resume_every_n_steps: int | None = 1000
    resume_every_minutes: float | None = 10.0
    resume_keep: int = 2
    log_every_seconds: float | None = 30.0

    def __post_init__(self) -> None:
        require_choice("callbacks.monitor_mode", self.monitor_mode, ("auto", "min", "max"))
        require_at_least_or_null(
            "callbacks", 1, patience=self.patience, resume_every_n_steps=self.resume_every_n_steps
        )
        if self.resume_every_minutes is not None and not self.resume_every_minutes > 0:
            raise ConfigError(
                f"callbacks.resume_every_minutes must be > 0 or null, got "
                f"{self.resume_every_minutes}"
            )
        if self.resume_keep < 1:
            raise ConfigError(f"callbacks.resume_keep must be >= 1, got {self.resume_keep}")
        if self.log_every_seconds is not None and not self.log_every_seconds > 0:
            raise ConfigError(
                f"callbacks.log_every_seconds must be > 0 or null, got {self.log_every_seconds}"
            )

    @property
    def mode(self) -> str:
        """min or max: ``monitor_mode``, or for auto what the metric's name says."""
        if self.monitor_mode != "auto":
            return self.monitor_mode
        lower_is_better = ("ce", "loss", "exposure_bias", "truncated", "ppl", "bpc")
        return "min" if self.monitor.split("/")[-1].endswith(lower_is_better) else "max"


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


def build_callbacks(
    config: CallbacksConfig, spec: TaskSpec, run_dir: Path, progress_bar: bool = False
) -> RunCallbacks:
    """The best-checkpoint and early-stopping callbacks the config asks for, the resumable
    checkpoints, throughput, and seqlab's bookkeeping."""
    checkpoint = ModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        filename="best-{epoch}-{step}",
        monitor=config.monitor,
        mode=config.mode,
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
                mode=config.mode,
                patience=config.patience,
                check_on_train_epoch_end=False,
            )
        )
    callbacks += [TrackDataPosition(), BatchesOnDevice(), resumable, preemption]
    if progress_bar:
        callbacks.append(training_progress_bar())
    elif config.log_every_seconds is not None:
        callbacks.append(ProgressLog(config.log_every_seconds, throughput))
    return RunCallbacks(checkpoint, throughput, preemption, callbacks)


class BatchesOnDevice(L.Callback):
    """On a GPU, the batches reach the device without stalling the host. A fixed-length
    tensor dataset (copy, tagging without lengths) that takes at most ``share`` of the free
    device memory moves there once and its batches are gathered there by index; any other
    loader pins its batches, so their copy to the device is asynchronous."""

    def __init__(self, share: float = 0.25) -> None:
        self.share = share

    def place(self, loaders: Any, device: torch.device) -> None:
        if device.type != "cuda" or loaders is None:
            return
        for loader in loaders if isinstance(loaders, list | tuple) else [loaders]:
            dataset = getattr(loader, "dataset", None)
            fixed = isinstance(dataset, TensorDictDataset) and "lengths" not in dataset.tensors
            if fixed and dataset.nbytes <= self.share * torch.cuda.mem_get_info(device)[0]:
                dataset.to(device)
                sampler = getattr(loader, "sampler", None)
                if isinstance(sampler, ResumableBatches):  # one index copy per epoch
                    sampler.device = device
            elif isinstance(loader, DataLoader):
                loader.pin_memory = True

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.place(trainer.train_dataloader, module.device)

    def on_validation_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.place(trainer.val_dataloaders, module.device)

    def on_test_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.place(trainer.test_dataloaders, module.device)


class ShowsReadTrainingLoss:
    """A progress bar mixin: the bar shows train/ce as the objective last read it back
    (``shown_train_loss``), so the bar itself reads nothing from the device."""

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)  # type: ignore[misc]
        loss = getattr(pl_module, "shown_train_loss", None)
        return metrics if loss is None else {"train/ce": loss, **metrics}  # first, as before


class ThrottledRedraw:
    """A progress bar mixin: the bar is redrawn at most every ``redraw_seconds``, at the last
    batch of each loop and at the step that ends trainer.max_steps, instead of at every
    batch. Lightning's bars redraw at every batch (rich twice); measured on the 2-core CPU at
    a terminal, that cost 0.35 ms a training step, host time that a GPU step whose host is
    the bottleneck pays in full."""

    redraw_seconds = 0.1
    _drawn_at = -math.inf

    def _redraw_due(self, batch_idx: int, total: Any) -> bool:
        now = time.monotonic()
        last = isinstance(total, int | float) and batch_idx + 1 >= total
        if last or now - self._drawn_at >= self.redraw_seconds:
            self._drawn_at = now
            return True
        return False

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        budget_spent = 0 < trainer.max_steps <= trainer.global_step
        if self._redraw_due(batch_idx, trainer.num_training_batches) or budget_spent:
            super().on_train_batch_end(trainer, module, outputs, batch, batch_idx)  # type: ignore[misc]

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        totals = (
            trainer.num_sanity_val_batches if trainer.sanity_checking else trainer.num_val_batches
        )
        if self._redraw_due(batch_idx, _loader_total(totals, dataloader_idx)):
            super().on_validation_batch_end(  # type: ignore[misc]
                trainer, module, outputs, batch, batch_idx, dataloader_idx
            )

    def on_test_batch_end(
        self,
        trainer: L.Trainer,
        module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self._redraw_due(batch_idx, _loader_total(trainer.num_test_batches, dataloader_idx)):
            super().on_test_batch_end(  # type: ignore[misc]
                trainer, module, outputs, batch, batch_idx, dataloader_idx
            )


def _loader_total(totals: Any, loader: int) -> float | None:
    """The batch count of evaluation loader ``loader`` (Lightning keeps one per loader)."""
    return totals[loader] if isinstance(totals, list) and loader < len(totals) else None


class TrainingProgressBar(ThrottledRedraw, ShowsReadTrainingLoss, RichProgressBar):
    """Lightning's rich progress bar (its default where rich is installed)."""


class TrainingTqdmBar(ThrottledRedraw, ShowsReadTrainingLoss, TQDMProgressBar):
    """Lightning's tqdm progress bar (its default without rich)."""


def training_progress_bar() -> L.Callback:
    """The progress bar Lightning would choose, showing seqlab's read-back training loss."""
    return TrainingProgressBar() if _RICH_AVAILABLE else TrainingTqdmBar()


class TrainingThroughput(L.Callback):
    """Measures training tokens per second: tokens in training batches over the wall time
    spent inside training batches (forward, backward, optimizer; not validation). Under DDP
    the tokens of every rank are summed when training ends."""

    def __init__(self) -> None:
        self.tokens = 0
        self.seconds = 0.0
        self._start = 0.0
        self._tokens_at_start = 0

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._tokens_at_start = self.tokens

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.world_size > 1:
            mine = torch.tensor(float(self.tokens - self._tokens_at_start), device=module.device)
            every = trainer.strategy.reduce(mine, reduce_op="sum")
            self.tokens = self._tokens_at_start + int(every)

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
        return float(self.tokens) / self.seconds if self.seconds else 0.0

    def state_dict(self) -> dict[str, Any]:
        """Saved in checkpoints, so a resumed run reports tokens/s over all of its training."""
        return {"tokens": int(self.tokens), "seconds": self.seconds}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.tokens, self.seconds = int(state["tokens"]), float(state["seconds"])


class ProgressLog(L.Callback):
    """Progress as plain lines, for runs whose output goes to a file (no progress bar): every
    ``every_seconds`` the step, epoch, last training loss, training tokens/s since the last
    line, elapsed time and an estimate of the time left; after every validation its metrics."""

    def __init__(self, every_seconds: float, throughput: TrainingThroughput) -> None:
        self.every_seconds = every_seconds
        self.throughput = throughput
        self._started = self._last = time.monotonic()
        self._last_tokens = 0
        self._last_seconds = 0.0
        self._first_step = 0

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._started = self._last = time.monotonic()
        self._last_tokens, self._last_seconds = self.throughput.tokens, self.throughput.seconds
        self._first_step = trainer.global_step

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        now = time.monotonic()
        if now - self._last < self.every_seconds or not trainer.is_global_zero:
            return
        # this rank's tokens times the ranks (each rank trains on as many batches)
        tokens = float(self.throughput.tokens - self._last_tokens) * trainer.world_size
        seconds = self.throughput.seconds - self._last_seconds
        rate = tokens / seconds if seconds else 0.0
        self._last, self._last_tokens = now, self.throughput.tokens
        self._last_seconds = self.throughput.seconds
        elapsed = now - self._started
        loss = float(getattr(module, "last_train_loss", float("nan")))  # read back now
        print(
            f"seqlab: step {trainer.global_step} epoch {trainer.current_epoch} "
            f"train/ce {loss:.4f} {rate:,.0f} tokens/s elapsed {_clock(elapsed)} "
            f"left {self._left(trainer, module, elapsed)}",
            flush=True,
        )

    def _left(self, trainer: L.Trainer, module: L.LightningModule, elapsed: float) -> str:
        """The budget left: the smaller of max_time's and the steps left at this pace."""
        estimates = []
        timer = next((c for c in trainer.callbacks if isinstance(c, Timer)), None)
        if timer is not None and timer.time_remaining() is not None:
            estimates.append(float(timer.time_remaining()))
        steps_per_batch = getattr(module, "steps_per_batch", lambda: 1)()
        total = trainer.estimated_stepping_batches * steps_per_batch
        done = trainer.global_step - self._first_step
        if done > 0 and math.isfinite(total):
            estimates.append(elapsed / done * max(0, total - trainer.global_step))
        return _clock(min(estimates)) if estimates else "unknown"

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        metrics = {
            k: float(v) for k, v in sorted(trainer.callback_metrics.items()) if k.startswith("val/")
        }
        shown = " ".join(f"{k} {v:.4f}" for k, v in metrics.items())
        print(
            f"seqlab: validation after epoch {trainer.current_epoch} step "
            f"{trainer.global_step}: {shown}",
            flush=True,
        )


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class FlushStepScalarsOnError(L.Callback):
    """Writes the per-step scalars still buffered in the objective when training stops on an
    exception (Ctrl-C included), before Lightning finalises the loggers."""

    def on_exception(
        self, trainer: L.Trainer, module: L.LightningModule, exception: BaseException
    ) -> None:
        flush = getattr(module, "flush_step_scalars", None)
        if flush is not None:
            flush()
