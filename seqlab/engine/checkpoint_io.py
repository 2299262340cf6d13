"""Checkpoints a run can be resumed from: written atomically, every N optimizer steps or M
minutes (the newest K kept), and on SIGTERM / SIGUSR1 before the process exits.

Resuming from one (seqlab/engine/resume.py) continues training exactly where it stopped: Lightning
restores the model, optimizer, loops and callbacks; the training loader's position inside
the epoch (seqlab.data.batching.ResumableLoader) and every random generator come back too
(seqlab.objectives.base).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.plugins import TorchCheckpointIO

from seqlab.data.batching import ResumableLoader
from seqlab.engine.slurm import requeue_slurm_job, slurm_job_id
from seqlab.errors import SeqlabError, describe_os_error

RESUME_DIR = "resume"  # <run dir>/checkpoints/resume/step=<S>.ckpt


class CheckpointSaveError(SeqlabError):
    """A checkpoint could not be written (a full disk, a lost mount); the earlier
    checkpoints are intact and the half-written file is gone."""

    kind = "checkpoint error"

    def __init__(self, path: Path, error: BaseException) -> None:
        reason = describe_os_error(error) if isinstance(error, OSError) else str(error)
        super().__init__(
            f"could not write the checkpoint {path}: {reason}. The earlier checkpoints are "
            f"intact and nothing half-written was kept; free space, then continue with "
            f"python -m seqlab.train resume={path.parent.parent}"
        )


def remove_partial_checkpoints(run_dir: Path) -> list[Path]:
    """Delete the ``*.partial`` files a process killed while saving (SIGKILL, power loss)
    left under ``run_dir/checkpoints``; returns them. Never a checkpoint under its name."""
    found = sorted((Path(run_dir) / "checkpoints").rglob("*.ckpt.partial"))
    for path in found:
        path.unlink(missing_ok=True)
    return found


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes each checkpoint to ``<name>.partial`` beside it, syncs it to disk, then renames
    it into place: a process killed while saving never leaves a truncated checkpoint under a
    checkpoint's name. Reads with ``weights_only=True`` unless told otherwise."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any = None
    ) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        try:
            with partial.open("wb") as handle:
                torch.save(checkpoint, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, path)
        except BaseException as error:  # a full disk, Ctrl-C: no half-written file is kept
            partial.unlink(missing_ok=True)
            if isinstance(error, OSError) or "write" in str(error).lower():
                raise CheckpointSaveError(path, error) from None
            raise

    def load_checkpoint(
        self,
        path: str | Path,
        map_location: Callable | None = lambda storage, loc: storage,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        return super().load_checkpoint(
            path, map_location, weights_only=True if weights_only is None else weights_only
        )


class TrackDataPosition(L.Callback):
    """Tells the training loader how many of the epoch's batches training has started, which
    is what its checkpointed state must say (Lightning fetches one batch ahead)."""

    def on_train_batch_start(
        self, trainer: L.Trainer, module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        loader = trainer.train_dataloader
        if isinstance(loader, ResumableLoader):
            loader.sampler.consumed = batch_idx + 1


class ResumeCheckpoints(L.Callback):
    """Resumable checkpoints in ``dirpath`` at every multiple of ``every_n_steps`` optimizer
    steps and whenever ``every_minutes`` minutes have passed since the last one (None turns
    either off); the newest ``keep`` are kept. An epoch's last batch is left to the checkpoint
    written after its validation (``last.ckpt``), so that a resumed run never logs a
    validation twice."""

    def __init__(
        self,
        dirpath: Path,
        every_n_steps: int | None,
        every_minutes: float | None,
        keep: int,
    ) -> None:
        self.dirpath = Path(dirpath)
        self.every_n_steps = every_n_steps
        self.every_seconds = None if every_minutes is None else 60.0 * every_minutes
        self.keep = keep
        self._last_step = 0
        self._last_time = time.monotonic()

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._last_step = trainer.global_step
        self._last_time = time.monotonic()

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if batch_idx + 1 >= trainer.num_training_batches:
            return
        steps_due = (
            self.every_n_steps is not None
            and trainer.global_step > self._last_step
            and trainer.global_step % self.every_n_steps == 0
        )
        time_due = (
            self.every_seconds is not None
            and time.monotonic() - self._last_time >= self.every_seconds
        )
        if trainer.world_size > 1:  # every rank must save at the same step (a collective)
            time_due = agreed_any(trainer, time_due)
        if steps_due or time_due:
            self.save(trainer)

    def save(self, trainer: L.Trainer) -> Path:
        """Write a resumable checkpoint now; drop the oldest beyond ``keep``."""
        path = self.dirpath / f"step={trainer.global_step}.ckpt"
        trainer.save_checkpoint(path, weights_only=False)
        self._last_step, self._last_time = trainer.global_step, time.monotonic()
        if trainer.is_global_zero:  # under DDP the first rank writes, and prunes
            saved = sorted(self.dirpath.glob("step=*.ckpt"), key=_checkpoint_step)
            for old in saved[: -self.keep]:
                old.unlink(missing_ok=True)
        return path


def _checkpoint_step(path: Path) -> int:
    return int(path.stem.split("=")[1])


# Under DDP, the time-based checkpoint and the preemption signal are agreed on across ranks
# every this many optimizer steps (one small all-reduce), not at every step.
AGREE_EVERY = 20


def agreed_any(trainer: L.Trainer, decision: bool) -> bool:
    """Under DDP: ``decision`` of any rank, asked every AGREE_EVERY optimizer steps (False
    in between), so that every rank acts at the same step."""
    if trainer.global_step % AGREE_EVERY:
        return False
    return bool(trainer.strategy.reduce_boolean_decision(decision, all=False))


class Preempted(SeqlabError):
    """The run was stopped by a signal after writing a resumable checkpoint."""

    kind = "stopped"

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum  # the shell's convention for "ended by signal N"


class Preemption(L.Callback):
    """On SIGTERM or SIGUSR1 (what cluster schedulers send before they stop or requeue a job),
    finish the current batch, write a resumable checkpoint and stop with :class:`Preempted`,
    whose message names the command that continues the run.

    Under Slurm (Lightning's SLURM environment, with its own requeue turned off so that the
    checkpoint is always written between batches), SIGUSR1 also requeues the job; the requeued
    job finds its run dir (named by the job) and resumes on its own (seqlab.engine.resume)."""

    def __init__(self, saver: ResumeCheckpoints, run_dir: Path) -> None:
        self.saver = saver
        self.run_dir = run_dir
        self.received: int | None = None

    @contextmanager
    def installed(self) -> Iterator[None]:
        """The signal handlers, for the duration of ``trainer.fit``."""
        previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGUSR1)}
        for signum in previous:
            signal.signal(signum, self._handle)
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        self.received = signum

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        received = self.received is not None
        if trainer.world_size > 1:  # a signal to any rank stops them all at the same step
            received = agreed_any(trainer, received)
            self.received = self.received or (signal.SIGTERM if received else None)
        if not received:
            return
        assert self.received is not None
        path = self.saver.save(trainer)
        name = signal.Signals(self.received).name
        job = slurm_job_id()
        requeued = ""
        if job is not None and self.received == signal.SIGUSR1:
            requeued = f" {requeue_slurm_job(job)}."
        raise Preempted(
            f"{name} received: stopped after optimizer step {trainer.global_step} and wrote a "
            f"resumable checkpoint, {path}.{requeued} Continue the run with: "
            f"python -m seqlab.train resume={self.run_dir}",
            self.received,
        )
