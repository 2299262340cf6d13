"""What every seqlab objective shares: the optimizer, one manual optimisation step with
gradient-norm logging and clipping, and the stop on a non-finite loss.

All objectives use Lightning's manual optimisation, so truncated BPTT (several optimizer
steps per batch) and ordinary training (one) go through the same :meth:`optimize`.
"""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from torch import Tensor, nn
from torch.optim.lr_scheduler import ReduceLROnPlateau

from seqlab.config.training import TrainingConfig
from seqlab.data.batching import ResumableLoader
from seqlab.errors import NonFiniteLossError
from seqlab.objectives.lr_schedules import build_scheduler
from seqlab.reporting.loggers import RunCSVLogger
from seqlab.reporting.step_scalars import StepScalarBuffer
from seqlab.rng import rng_states, set_rng_states
from seqlab.spec import TaskSpec


def build_optimizer(params: Any, cfg: TrainingConfig) -> torch.optim.Optimizer:
    """The configured optimizer. Adam and AdamW use PyTorch's fused kernel where the
    parameters live on a device that has one (CPU, CUDA): on the 2-core CPU it takes 0.07 ms
    instead of 0.20 ms a step for the default copy model (one kernel instead of a loop over
    parameters)."""
    params = list(params)
    if cfg.optimizer in ("adam", "adamw"):
        fused = all(_has_fused_adam(p) for p in params)
        adam = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
        return adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused or None)
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(
            params, lr=cfg.lr, weight_decay=cfg.weight_decay, momentum=cfg.momentum
        )
    return torch.optim.SGD(params, lr=cfg.lr, weight_decay=cfg.weight_decay, momentum=cfg.momentum)


def _has_fused_adam(param: Tensor) -> bool:
    return param.device.type in ("cpu", "cuda") and param.is_floating_point()


def clip_gradients(
    parameters: list[nn.Parameter], cfg: TrainingConfig, scale: float = 1.0
) -> Tensor:
    """Return the total gradient L2 norm *before* clipping, then clip in place.

    clip_value clamps every element to [-v, v]; clip_norm rescales g to c·g/‖g‖ when
    ‖g‖ > c (direction kept). With both, values are clamped first, then the norm is capped.
    ``scale``: the gradients are multiplied by it (a GradScaler's loss scale under 16-mixed
    precision): the thresholds are scaled alike, so the clipping acts on the true gradient,
    and the norm returned is that of the scaled gradients.
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    norm = torch.nn.utils.get_total_norm(grads)
    if cfg.clip_value is not None:
        torch.nn.utils.clip_grad_value_(parameters, cfg.clip_value * scale)
    if cfg.clip_norm is not None:
        if cfg.clip_value is None:
            torch.nn.utils.clip_grads_with_norm_(parameters, cfg.clip_norm * scale, norm)
        else:
            torch.nn.utils.clip_grad_norm_(parameters, cfg.clip_norm * scale)
    return norm


def bad_step(pair: Tensor, bound: float) -> Tensor:
    """``pair`` = [loss, gradient norm] (2,) on the device -> 1.0 where the step must not
    update (a loss or norm that is not finite, or a loss past ``bound``), else 0.0: the
    ``found_inf`` of a fused optimizer, the CPU path's test without reading anything back.
    Seven kernels (|x| < inf is False for NaN and ±inf) where two torch.isfinite calls take
    thirteen: on a GPU each launch is host time the step may wait for."""
    good = (pair.abs() < math.inf).all() & (pair[0] <= bound)
    return (~good).float()


class SeqlabObjective(L.LightningModule):
    """Base LightningModule: holds a plain ``nn.Module`` and the training options.

    ``global_step`` counts optimizer steps (under manual optimisation Lightning advances it
    at every ``optimizer.step()``, so a TBPTT batch of three chunks counts three); it is the
    step of every per-step scalar and the ``i`` of the scheduled-sampling schedules.
    ``checkpoint_metadata`` (the run's config, the task's vocabularies) is saved in every
    checkpoint under ``"seqlab"``.
    """

    def __init__(self, model: nn.Module, training: TrainingConfig, spec: TaskSpec) -> None:
        super().__init__()
        self.model = model
        self.training_cfg = training
        self.spec = spec
        self.automatic_optimization = False
        self._epoch_loss = [0.0, 0]  # sum and count of the training losses of ...
        self._epoch_loss_epoch = -1  # ... this epoch
        self.checkpoint_metadata: dict[str, Any] = {}
        self.step_scalars = StepScalarBuffer()
        self._trainable: list[nn.Parameter] | None = None  # filled at the first step
        self._restored: dict[str, Any] | None = None  # training state of a resumed run
        # The validation metric that picks the best checkpoint (and drives a plateau schedule)
        self.monitor: tuple[str, str] = ("val/ce", "min")
        self.last_train_loss: float | Tensor = float("nan")
        # The training loss the progress bar shows (seqlab.engine.callbacks.TrainingProgressBar):
        # a value already read back, every trainer.log_every_n_steps steps
        self.shown_train_loss: float | None = None
        # On a GPU, the step's loss and gradient norm stay on the device (see optimize)
        self.defer_reads = False
        self._unread: list[tuple[int, int, Tensor]] = []  # (step, epoch, [loss, norm])
        self.resumed_mid_epoch = False  # set at the start of training

    @classmethod
    def validation_metrics(cls, spec: TaskSpec) -> list[str]:
        """The ``val/...`` metrics every validation of a run with this spec logs (what
        ``callbacks.monitor`` may name)."""
        return ["val/ce", "val/acc"]

    def configure_optimizers(self) -> Any:
        optimizer = build_optimizer(self.model.parameters(), self.training_cfg)
        total = self.total_optimizer_steps() if self.training_cfg.lr_schedule == "cosine" else None
        scheduler = build_scheduler(optimizer, self.training_cfg, total, self.monitor[1])
        if scheduler is None:
            return optimizer
        # stepped by optimize() and on_validation_end (manual optimisation)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler}}

    def total_optimizer_steps(self) -> int:
        """The run's budget in optimizer steps, from trainer.max_steps or max_epochs. Counted
        from the loader's length: Lightning's ``estimated_stepping_batches`` would start the
        training loader before a resumed run restores its position."""
        trainer = self.trainer
        if trainer.max_steps > 0:
            return trainer.max_steps
        batches = len(trainer.datamodule.train_dataloader())
        limit = trainer.limit_train_batches
        if isinstance(limit, int):
            batches = min(batches, limit)
        elif limit is not None:
            batches = int(batches * limit)
        return int(trainer.max_epochs or 1) * batches * self.steps_per_batch()

    def steps_per_batch(self) -> int:
        """Optimizer steps per training batch (more than one with truncated BPTT)."""
        return 1

    def _scheduler(self) -> Any:
        schedulers = self.lr_schedulers()
        return schedulers[0] if isinstance(schedulers, list) else schedulers

    def optimize(self, loss: Tensor) -> float | Tensor:
        """One optimizer step on ``loss``: backward, log the gradient norm, clip, step.
        Returns the loss: a float, or on a GPU a 0-d tensor still on the device.

        On the CPU the loss and the gradient norm are read back together, after the backward
        pass and before the update, and a non-finite loss (or one past training.max_loss)
        updates nothing. On a GPU such a read would stall the kernel queue at every step, so
        with a fused optimizer (Adam, AdamW) the test runs on the device instead: the fused
        kernel skips the update of a bad step (its ``found_inf``), and the values are read
        back with the step scalars, every trainer.log_every_n_steps steps, when a bad step
        stops the run with the same message (:meth:`settle`)."""
        optimizer = self.optimizers()
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        if self._trainable is None:
            self._trainable = [p for p in self.model.parameters() if p.requires_grad]
        scale = self.loss_scale()
        norm = clip_gradients(self._trainable, self.training_cfg, scale)
        if self.defer_reads:
            return self._optimize_on_device(optimizer, loss.detach().float(), norm.float())
        loss_value, norm_value = torch.stack([loss.detach().float(), norm.float()]).tolist()
        if math.isfinite(loss_value) and loss_value > self.loss_bound():
            self.flush_step_scalars()
            raise NonFiniteLossError(
                f"the training loss grew to {loss_value:.4g} at {self._where()}, past "
                f"training.max_loss={self.loss_bound():.4g} (100 × the loss of a uniform guess "
                f"unless set): the run diverged. Nothing was updated from it and "
                f"{self._kept()}. Try a lower learning rate (now training.lr="
                f"{self.training_cfg.lr}) or gradient clipping (training.clip_norm=1.0)."
            )
        if not math.isfinite(loss_value):
            self.flush_step_scalars()
            raise NonFiniteLossError(
                f"the training loss became {loss_value} at {self._where()}. Nothing was "
                f"updated from it and {self._kept()}. Try gradient clipping "
                f"(training.clip_norm=1.0) or a lower learning rate (now training.lr="
                f"{self.training_cfg.lr})."
            )
        norm_value /= scale
        if not math.isfinite(norm_value) and scale != 1.0:
            # 16-mixed: an overflow at this loss scale; the GradScaler skips the step and
            # lowers the scale (its normal calibration, not a divergence)
            optimizer.step()
            self.write_scalars({"train/grad_norm": norm_value})
            return loss_value
        if not math.isfinite(norm_value):
            self.write_scalars({"train/grad_norm": norm_value})
            self.flush_step_scalars()
            raise NonFiniteLossError(
                f"the gradient norm became {norm_value} at {self._where()} "
                f"(loss {loss_value:.4g}). The step was skipped and {self._kept()}. Try "
                f"training.clip_norm=1.0 or a lower learning rate."
            )
        lr = optimizer.param_groups[0]["lr"]
        optimizer.step()
        scheduler = self._scheduler()
        if scheduler is not None and not isinstance(scheduler, ReduceLROnPlateau):
            scheduler.step()
        self.write_scalars({"train/grad_norm": norm_value, "train/lr": lr})
        return loss_value

    def _optimize_on_device(self, optimizer: Any, loss: Tensor, norm: Tensor) -> Tensor:
        """The step of :meth:`optimize` with nothing read back: a bad step is skipped by the
        fused optimizer on the device and reported by :meth:`settle`."""
        pair = torch.stack([loss, norm])
        optimizer.optimizer.found_inf = bad_step(pair, self.loss_bound())  # read by the kernel
        lr = optimizer.param_groups[0]["lr"]
        self._unread.append((self.global_step, self.current_epoch, pair))
        optimizer.step()
        scheduler = self._scheduler()
        if scheduler is not None and not isinstance(scheduler, ReduceLROnPlateau):
            scheduler.step()
        self.write_scalars({"train/grad_norm": norm, "train/lr": lr})
        return loss

    def can_defer_reads(self) -> bool:
        """Whether steps can be checked on the device: a CUDA device, a fused optimizer (its
        kernel skips a flagged step) and no loss scaler (16-mixed keeps its own checks)."""
        optimizer = self.optimizers().optimizer
        return (
            self.device.type == "cuda"
            and bool(optimizer.defaults.get("fused"))
            and self.loss_scale() == 1.0
            and getattr(self.trainer.precision_plugin, "scaler", None) is None
        )

    def settle(self) -> None:
        """Read back the losses and gradient norms of the steps run on the device (one
        transfer) and stop at the first bad one, as :meth:`optimize` does on the CPU: that
        step was skipped on the device, so nothing was updated from it."""
        if not self._unread:
            return
        unread, self._unread = self._unread, []
        values = torch.stack([v for _, _, v in unread]).tolist()
        self.shown_train_loss = values[-1][0]
        for (step, epoch, _), (loss, norm) in zip(unread, values, strict=True):
            where = f"optimizer step {step} (epoch {epoch}; read back after the steps since)"
            advice = (
                f"That step was skipped on the device and {self._kept()}. Try gradient clipping "
                f"(training.clip_norm=1.0) or a lower learning rate (now training.lr="
                f"{self.training_cfg.lr})."
            )
            if not math.isfinite(loss):
                raise NonFiniteLossError(f"the training loss became {loss} at {where}. {advice}")
            if loss > self.loss_bound():
                raise NonFiniteLossError(
                    f"the training loss grew to {loss:.4g} at {where}, past training.max_loss="
                    f"{self.loss_bound():.4g}: the run diverged. {advice}"
                )
            if not math.isfinite(norm):
                raise NonFiniteLossError(
                    f"the gradient norm became {norm} at {where} (loss {loss:.4g}). {advice}"
                )

    def loss_bound(self) -> float:
        """The training loss past which a run has diverged: training.max_loss, or 100 × the
        cross-entropy of a uniform guess over the output classes."""
        if self.training_cfg.max_loss is not None:
            return self.training_cfg.max_loss
        return 100.0 * math.log(max(2, self.spec.num_classes))

    def loss_scale(self) -> float:
        """The GradScaler's current loss scale under 16-mixed precision, else 1."""
        scaler = getattr(self.trainer.precision_plugin, "scaler", None)
        if scaler is None or not scaler.is_enabled():
            return 1.0
        return float(scaler.get_scale())

    def _where(self) -> str:
        return f"optimizer step {self.global_step} (epoch {self.current_epoch})"

    def _kept(self) -> str:
        return f"the checkpoints of the last good epoch are kept in {self.trainer.default_root_dir}"

    def write_scalars(self, values: dict[str, float]) -> None:
        """Record per-step training scalars at the current optimizer step. Every step's values
        are written, in bursts of trainer.log_every_n_steps steps
        (seqlab/reporting/step_scalars.py).

        ``self.log`` costs about 0.6 ms a call in Lightning 2.6 (measured: 12% of a 10 ms
        step for two calls), so the hot path bypasses it; evaluation metrics still use it.
        """
        self.step_scalars.add(self.global_step, values)
        if self.step_scalars.due():
            try:
                self.settle()
            finally:
                self.step_scalars.flush(self.loggers, keep_last=True)

    def flush_step_scalars(self) -> None:
        """Write every buffered per-step scalar to the loggers now (after reading back and
        checking the steps run on the device)."""
        try:
            self.settle()
        finally:
            self.step_scalars.flush(self.loggers)

    def log_training_loss(
        self, loss: float | Tensor, extra: dict[str, float] | None = None
    ) -> None:
        """Per-step loss (and extras) to the loggers; the epoch mean as train/ce_epoch; the
        progress bar's value refreshed every trainer.log_every_n_steps batches. On a GPU
        ``loss`` stays a device tensor (read back with the step scalars). Not through
        ``self.log``: Lightning would read a logged tensor's value back at every later batch
        end and bar refresh (a host-device synchronisation a step on a GPU)."""
        if isinstance(loss, Tensor) and not self.defer_reads:
            loss = float(loss)
        self.last_train_loss = loss
        self.write_scalars({"train/ce": loss, **(extra or {})})
        if self._epoch_loss_epoch != self.current_epoch:  # the first step of an epoch
            self._epoch_loss, self._epoch_loss_epoch = [0.0, 0], self.current_epoch
        self._epoch_loss[0] += loss
        self._epoch_loss[1] += 1
        every = max(1, self.trainer.log_every_n_steps)
        if isinstance(loss, float) and self.trainer.global_step % every == 0:
            self.shown_train_loss = loss  # on a GPU: when the burst is read back (settle)

    def on_train_start(self) -> None:
        self.step_scalars.flush_every = max(1, self.trainer.log_every_n_steps)
        self.defer_reads = self.defer_reads or self.can_defer_reads()
        loader = self.trainer.train_dataloader
        mid_epoch = isinstance(loader, ResumableLoader) and loader.sampler.resumes_mid_epoch
        self.resumed_mid_epoch = bool(self._restored and mid_epoch)
        if self.resumed_mid_epoch and self._restored.get("epoch_loss"):  # type: ignore[union-attr]
            # the losses of this epoch's steps before the checkpoint. The epoch is tracked
            # with the sum, not reset in on_train_epoch_start: measured, a mid-epoch resume
            # otherwise lost the first half of that epoch's mean and gave it to the next
            # epoch's (Lightning 2.6 does not start the resumed epoch with that hook)
            self._epoch_loss = list(self._restored["epoch_loss"])  # type: ignore[index]
            self._epoch_loss_epoch = self.current_epoch
        if self.resumed_mid_epoch:
            # Resumed inside an epoch: starting the loader drew from torch's generator, which
            # the uninterrupted run did at the start of the epoch, before the checkpoint.
            set_rng_states(self._restored["rng"])  # type: ignore[index]

    def on_validation_start(self) -> None:
        self.flush_step_scalars()

    def on_validation_end(self) -> None:
        """A plateau schedule looks at the monitored metric after every validation."""
        scheduler = self._scheduler()
        value = self.trainer.callback_metrics.get(self.monitor[0])
        plateau = isinstance(scheduler, ReduceLROnPlateau) and not self.trainer.sanity_checking
        if plateau and value is not None:
            scheduler.step(float(value))

    def on_train_end(self) -> None:
        self.flush_step_scalars()

    def on_train_epoch_end(self) -> None:
        self.flush_step_scalars()
        total, count = self._epoch_loss
        if count and self._epoch_loss_epoch == self.current_epoch:
            self.log("train/ce_epoch", total / count)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """The run's metadata, and what an exact resume needs beyond Lightning's own state:
        every random generator, the running epoch mean, and how much of the logs belongs to
        the steps before this checkpoint (all of it is written out first)."""
        checkpoint["seqlab"] = self.checkpoint_metadata
        self.flush_step_scalars()
        csv_rows = None
        for logger in self.loggers:
            logger.save()
            if isinstance(logger, TensorBoardLogger):
                logger.experiment.flush()
            if isinstance(logger, RunCSVLogger):
                csv_rows = logger.rows_written
        checkpoint["seqlab_state"] = {
            "rng": rng_states(),
            "epoch_loss": [float(self._epoch_loss[0]), int(self._epoch_loss[1])],
            "csv_rows": csv_rows,
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("seqlab_state")
        if state is not None:
            set_rng_states(state["rng"])
            self._restored = dict(state)
