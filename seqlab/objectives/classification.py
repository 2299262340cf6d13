"""Objective for one label per sequence (sentiment, text classification)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from seqlab.objectives.base import SeqlabObjective
from seqlab.spec import Batch, SequenceModel


class ClassificationObjective(SeqlabObjective):
    """Cross-entropy on ``labels``; metrics ce, acc, and the focus subset's accuracy
    (sentiment: acc_order_dependent)."""

    model: SequenceModel  # the model interface of this output shape (seqlab.spec)

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        logits = self.model(batch["inputs"], batch["lengths"])
        loss = F.cross_entropy(logits, batch["labels"])
        self.log_training_loss(self.optimize(loss))
        return loss.detach()

    def _evaluate(self, batch: Batch, split: str) -> None:
        logits = self.model(batch["inputs"], batch["lengths"])
        labels = batch["labels"]
        n = labels.numel()
        self.log(f"{split}/ce", F.cross_entropy(logits, labels), batch_size=n, prog_bar=True)
        correct = logits.argmax(-1) == labels
        self.log(f"{split}/acc", correct.float().mean(), batch_size=n, prog_bar=True)
        focus = batch.get("focus")
        if self.spec.focus_metric and focus is not None and bool(focus.any()):
            n_focus = int(focus.sum())
            self.log(
                f"{split}/{self.spec.focus_metric}",
                correct[focus].float().mean(),
                batch_size=n_focus,
            )

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, "test")
