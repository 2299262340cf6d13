"""Diagnostics of training dynamics (the ``diagnostics`` options; all off by default).

Gradient flow (``diagnostics.gradient_flow=true``): at chosen optimizer steps, ||dL/dh_t|| for
every position t of a training batch, against the distance T - t from the sequence's last
position, with the LSTM's cell-state path too (||dL/dC_t|| and the mean forget gate). It is
how the chapter's vanishing and exploding gradients are seen (Pascanu et al. 2013 measure it
this way). The model is unrolled with seqlab's gate-level cells on its own weights (a fused
kernel hides h_t), in eval mode, and the gradient is taken with respect to the states only:
training, its parameters and its random generators are untouched.

Attention maps (``diagnostics.attention_maps=N``): the attention weights of the first N
validation sentences as heat-maps in TensorBoard after every validation (seqlab/objectives/
seq2seq.py); ``seqlab.inference.translate ... attention=DIR`` writes them as PNGs.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.loggers import TensorBoardLogger
from torch import Tensor

from seqlab.config.checks import require_at_least, require_choice
from seqlab.config.schema import ModelConfig
from seqlab.errors import ConfigError
from seqlab.models.cells import cell_step, lstm_gates, lstm_update
from seqlab.models.recurrent import Recurrent, layer_parameters
from seqlab.models.rnn import RecurrentTagger, RNNConfig
from seqlab.objectives.per_step import IGNORE, per_step_ce
from seqlab.reporting.figures import gradient_flow_figure
from seqlab.reporting.gradient_flow import CSV_NAME
from seqlab.spec import SEQ2SEQ

LOSSES = ("task", "last_step")


@dataclass
class DiagnosticsConfig:
    """gradient_flow: record gradient norms against distance (see the module).
    every_n_steps: record before the first update, at every multiple of this many optimizer
    steps, and after the last. loss: task (the task's own loss) | last_step (the loss at the
    last position only, the textbook measurement). attention_maps: heat-maps of the first N
    validation sentences (attention models; 0 = none)."""

    gradient_flow: bool = False
    every_n_steps: int = 100
    loss: str = "task"
    attention_maps: int = 0

    def __post_init__(self) -> None:
        require_choice("diagnostics.loss", self.loss, LOSSES)
        require_at_least("diagnostics", 1, every_n_steps=self.every_n_steps)
        require_at_least("diagnostics", 0, attention_maps=self.attention_maps)


def check_diagnostics(config: DiagnosticsConfig, model: ModelConfig, output: str) -> None:
    """Refuse diagnostics the model cannot give, before anything is built."""
    if config.gradient_flow:
        if not isinstance(model, RNNConfig) or output == SEQ2SEQ:
            raise ConfigError(
                "diagnostics.gradient_flow measures the recurrent models vanilla, lstm and gru "
                f"on per-step and sequence tasks; model={model.name} is not one. Drop "
                "diagnostics.gradient_flow or choose model=vanilla|lstm|gru"
            )
        if model.bidirectional:
            raise ConfigError(
                "diagnostics.gradient_flow measures distance back in time: it needs a "
                "unidirectional model (model=vanilla|lstm|gru), not a bidirectional one"
            )
    if config.attention_maps and not getattr(model, "has_attention", False):
        raise ConfigError(
            f"diagnostics.attention_maps={config.attention_maps} draws attention weights, and "
            f"model={model.name} has no attention: use model=seq2seq_attention or "
            "diagnostics.attention_maps=0"
        )


@dataclass
class Unrolled:
    """Top-layer states of an unrolled recurrent stack: hidden and (LSTM) cell, T tensors of
    (B, H) each, the leaves the gradient is taken for; forget (LSTM): (B, T) the mean forget
    gate of each sequence at each position; outputs (B, T, H)."""

    hidden: list[Tensor]
    cell: list[Tensor]
    forget: Tensor | None
    outputs: Tensor


def unroll(recurrent: Recurrent, x: Tensor) -> Unrolled:
    """Run ``recurrent`` (either implementation) step by step with the gate-level cells on
    its own weights: x (B, T, I) -> every top-layer state as its own tensor."""
    rnn, cell = recurrent.rnn, recurrent.cell
    batch, hidden = x.size(0), recurrent.hidden_size
    layer_input = x
    hs: list[Tensor] = []
    cs: list[Tensor] = []
    forget: list[Tensor] = []
    for layer in range(recurrent.num_layers):
        w_ih, w_hh, b_ih, b_hh = layer_parameters(rnn, layer)
        h = x.new_zeros(batch, hidden)
        c = x.new_zeros(batch, hidden)
        hs, cs, forget = [], [], []
        for x_t in F.linear(layer_input, w_ih, b_ih).unbind(1):
            if cell == "lstm":
                gates = lstm_gates(x_t, h, w_hh, b_hh)
                h, c = lstm_update(gates, c)
                cs.append(c)
                forget.append(gates[1].mean(-1).detach())
            else:
                h, _ = cell_step(cell, x_t, h, None, w_hh, b_hh)
            hs.append(h)
        layer_input = torch.stack(hs, 1)
    return Unrolled(hs, cs, torch.stack(forget, 1) if forget else None, layer_input)


def last_real_positions(batch: dict[str, Tensor], steps: int) -> Tensor:
    """(B,) the index of each sequence's last real position: from lengths if the batch has
    them, else from the per-step targets (IGNORE at padding), else T - 1."""
    lengths = batch.get("lengths")
    if lengths is not None:
        return lengths.long() - 1
    targets = batch.get("targets")
    if targets is not None:
        return (targets != IGNORE).long().sum(1) - 1
    return torch.full((batch["inputs"].size(0),), steps - 1, dtype=torch.long)


def diagnostic_loss(model: Any, batch: dict[str, Tensor], outputs: Tensor, kind: str) -> Tensor:
    """The loss whose gradient is measured, from the top-layer ``outputs`` (B, T, H): the
    task's own (per-step CE over real positions, or the sequence label's CE at the pooled
    output), or with ``kind=last_step`` only the last real position's CE (per-step tasks)."""
    last = last_real_positions(batch, outputs.size(1))
    if isinstance(model, RecurrentTagger):
        logits = model.head(outputs)
        targets = batch["targets"]
        if kind == "last_step":
            rows = torch.arange(outputs.size(0))
            return F.cross_entropy(logits[rows, last], targets[rows, last])
        return per_step_ce(logits, targets)
    at_last = outputs[torch.arange(outputs.size(0)), last]  # unidirectional: the summary
    pooled = model.pool(outputs, at_last, batch["inputs"], batch.get("lengths"))
    return F.cross_entropy(model.head(pooled), batch["labels"])


def gradient_norms(model: Any, batch: dict[str, Tensor], loss_kind: str) -> list[dict[str, float]]:
    """Rows {distance, grad_norm[, cell_grad_norm, forget_gate]} for one batch: the mean over
    its sequences of ||dL/dh_t|| (and ||dL/dC_t||, mean f_t) at distance = (last real
    position) - t. The model's own forward is not used, so dropout and fused kernels do not
    matter; call it in eval mode with gradients enabled."""
    unrolled = unroll(model.encoder, model.embedding(batch["inputs"]))
    steps = unrolled.outputs.size(1)
    loss = diagnostic_loss(model, batch, unrolled.outputs, loss_kind)
    states = unrolled.hidden + unrolled.cell
    grads = torch.autograd.grad(loss, states, allow_unused=True)
    hidden = _stacked_norms(grads[:steps], unrolled.outputs)  # (B, T)
    cell = _stacked_norms(grads[steps:], unrolled.outputs) if unrolled.cell else None
    last = last_real_positions(batch, steps)
    distance = last[:, None] - torch.arange(steps)[None]  # (B, T)
    rows = []
    for d in range(int(distance.max()) + 1):
        at = distance == d
        if not bool(at.any()):
            continue
        row = {"distance": d, "grad_norm": float(hidden[at].mean())}
        if cell is not None and unrolled.forget is not None:
            row["cell_grad_norm"] = float(cell[at].mean())
            row["forget_gate"] = float(unrolled.forget[at].mean())
        rows.append(row)
    return rows


def _stacked_norms(grads: tuple[Tensor | None, ...], like: Tensor) -> Tensor:
    """Per-position gradients (T of (B, H) or None where the loss does not reach) -> norms
    (B, T)."""
    zeros = like.new_zeros(like.size(0))
    return torch.stack([zeros if g is None else g.norm(dim=-1) for g in grads], 1)


class GradientFlow(L.Callback):
    """Records gradient norms against distance into ``<run dir>/gradient_flow.csv`` and
    TensorBoard (a figure, log scale) before the first update, every ``every_n_steps``
    optimizer steps, and after the last."""

    def __init__(self, config: DiagnosticsConfig, run_dir: Path) -> None:
        self.config = config
        self.path = Path(run_dir) / CSV_NAME
        self._batch: dict[str, Tensor] | None = None
        self._last_recorded: int | None = None  # the optimizer step recorded last
        self._next = 0  # the next optimizer step at or after which to record

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        """A resumed run keeps the rows recorded before its checkpoint's step and records
        the rest again (those after it were lost with the process). Under DDP the first
        rank records (from its own batches) and the others do nothing."""
        if not trainer.is_global_zero or not self.path.exists():
            return
        with self.path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            fields = list(reader.fieldnames or [])
            kept = [row for row in reader if int(row["step"]) < trainer.global_step]
        with self.path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(kept)
        self._next = trainer.global_step

    def on_train_batch_start(
        self, trainer: L.Trainer, module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if not trainer.is_global_zero:
            return
        self._batch = batch
        if trainer.global_step >= self._next:  # a TBPTT batch may step past a multiple of N
            self.record(trainer, module)
            every = self.config.every_n_steps
            self._next = (trainer.global_step // every + 1) * every

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.record(trainer, module)

    def record(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        step = trainer.global_step
        if self._batch is None or step == self._last_recorded:
            return
        self._last_recorded = step
        model = module.model
        was_training = model.training
        model.eval()
        try:
            with torch.enable_grad():
                rows = gradient_norms(model, self._batch, self.config.loss)
        finally:
            model.train(was_training)
        self._write(step, rows)
        self._figure(trainer, step, rows)

    def _write(self, step: int, rows: list[dict[str, float]]) -> None:
        fields = ["step", *rows[0]]
        new = not self.path.exists()
        with self.path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            if new:
                writer.writeheader()
            writer.writerows({"step": step, **row} for row in rows)

    def _figure(self, trainer: L.Trainer, step: int, rows: list[dict[str, float]]) -> None:
        for logger in trainer.loggers:
            if isinstance(logger, TensorBoardLogger):
                figure = gradient_flow_figure({f"step {step}": rows})
                logger.experiment.add_figure("diagnostics/gradient_flow", figure, global_step=step)
