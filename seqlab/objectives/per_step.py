"""Objective for one output per input step (copying memory, tagging)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from seqlab.objectives.base import SeqlabObjective
from seqlab.objectives.tbptt import run_truncated_bptt
from seqlab.spec import Batch, PerStepModel, TaskSpec

IGNORE = -100  # target id of padding positions


def per_step_ce(logits: Tensor, targets: Tensor) -> Tensor:
    """logits (B, T, C), targets (B, T) with IGNORE at padding -> mean CE over real steps."""
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE)


class PerStepObjective(SeqlabObjective):
    """Cross-entropy over every position, full or truncated BPTT.

    Batches: inputs (B, T), targets (B, T) (IGNORE at padding), optional lengths (B,) and
    focus (B, T) bool: the positions of the task's focus metric (copy: the recall positions).
    Metrics per split: ce, acc, and with a focus mask ``<focus_metric>`` and seq_acc (every
    focus position right).
    """

    model: PerStepModel  # the model interface of this output shape (seqlab.spec)

    @classmethod
    def validation_metrics(cls, spec: TaskSpec) -> list[str]:
        names = ["ce", "acc"]
        if spec.baseline_ce is not None:
            names.append("baseline_ce")
        if spec.focus_metric:
            names += [spec.focus_metric, "seq_acc"]
        return [f"val/{name}" for name in names]

    def steps_per_batch(self) -> int:
        steps, length = self.training_cfg.tbptt_steps, self.spec.sequence_length
        return 1 if steps is None or length is None else math.ceil(length / steps)

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        inputs, targets = batch["inputs"], batch["targets"]
        lengths = batch.get("lengths")
        if self.training_cfg.tbptt_steps is None or lengths is not None:
            logits, _ = self.model(inputs, lengths)
            mean_loss = self.optimize(per_step_ce(logits, targets))
        else:
            mean_loss = run_truncated_bptt(
                self.model,
                inputs,
                self.training_cfg.tbptt_steps,
                lambda logits, s, e: per_step_ce(logits, targets[:, s:e]),
                self.optimize,
            )
        self.log_training_loss(mean_loss)
        return torch.as_tensor(mean_loss)

    def _evaluate(self, batch: Batch, split: str) -> None:
        inputs, targets = batch["inputs"], batch["targets"]
        logits, _ = self.model(inputs, batch.get("lengths"))
        real = targets != IGNORE
        n_real = int(real.sum())
        self.log(f"{split}/ce", per_step_ce(logits, targets), batch_size=n_real, prog_bar=True)
        correct = (logits.argmax(-1) == targets) & real
        self.log(f"{split}/acc", correct.sum() / n_real, batch_size=n_real)
        if self.spec.baseline_ce is not None:
            self.log(f"{split}/baseline_ce", self.spec.baseline_ce, batch_size=n_real)
        focus = batch.get("focus")
        if focus is not None and self.spec.focus_metric:
            n_focus = int(focus.sum())
            if n_focus:
                focus_correct = (correct & focus).sum() / n_focus
                self.log(
                    f"{split}/{self.spec.focus_metric}",
                    focus_correct,
                    batch_size=n_focus,
                    prog_bar=True,
                )
            has_focus = focus.any(1)
            all_right = ((correct | ~focus).all(1) & has_focus).sum()
            n_seq = int(has_focus.sum())
            if n_seq:
                self.log(f"{split}/seq_acc", all_right / n_seq, batch_size=n_seq)

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, "test")
