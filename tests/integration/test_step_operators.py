"""A training step of ``python -m seqlab.train`` dispatches few operators beyond those of the
plain PyTorch step on the same model (forward, cross-entropy, backward, fused Adam). On a GPU
each operator is a kernel launch or more, and a step whose host only just keeps up with the
GPU (the LSTM at hidden 512 in docs/benchmarks.md) pays for every launch. Counted on the CPU
over a window of steps of a real run (Lightning's loop, seqlab's callbacks, its logging and
checks), with reads immediate (the CPU's mode) and deferred (the GPU's, forced here)."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import seqlab.engine.run as run_module
from seqlab.objectives.base import SeqlabObjective, build_optimizer
from seqlab.objectives.per_step import per_step_ce
from tests.conftest import TINY_TASK, train

FIRST, LAST = 4, 24  # the counted steps: after set-up, two bursts of log_every_n_steps=10
RUN = [
    "model=lstm",
    "task=copy",
    "model.hidden_size=16",
    "model.embedding_size=8",
    *TINY_TASK["copy"],
    "task.n_train=1024",  # one epoch of 32 batches: no epoch end inside the window
    "trainer.max_epochs=1",
    f"trainer.max_steps={LAST + 2}",
    "trainer.limit_val_batches=1",
    "trainer.log_every_n_steps=10",
    "trainer.enable_progress_bar=false",
]
# Operators a step beyond the plain step's, measured (2026-12-06): 14 with reads (the gradient
# norm, the stacked read of loss and norm, the batch's three gathers), 26 deferred (the check
# on the device, found_inf, the epoch's running loss); about 10 of either are no kernel
# (detach, view, profiler marks). The plain step of this small LSTM dispatches 62 on the CPU
ALLOWED_EXTRA = 30


class OperatorCount(TorchDispatchMode):
    """Counts the aten operators dispatched while ``on``, by name."""

    def __init__(self) -> None:
        super().__init__()
        self.on = False
        self.counts: collections.Counter[str] = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        if self.on:
            self.counts[func.overloadpacket.__name__] += 1
        return func(*args, **(kwargs or {}))


class Window(L.Callback):
    """Turns the count on at the start of batch FIRST and off at the start of batch LAST, and
    keeps the model and a batch for the plain step."""

    def __init__(self, census: OperatorCount) -> None:
        self.census = census
        self.model: torch.nn.Module | None = None
        self.batch: dict[str, torch.Tensor] | None = None

    def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:  # type: ignore[no-untyped-def]
        if batch_idx == FIRST:
            self.census.on = True
            self.model, self.batch = module.model, batch
        elif batch_idx == LAST:
            self.census.on = False


def seqlab_operators(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, Window]:
    census = OperatorCount()
    window = Window(census)
    original = run_module.build_callbacks

    def with_window(*args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        callbacks = original(*args, **kwargs)
        callbacks.all.append(window)
        return callbacks

    monkeypatch.setattr(run_module, "build_callbacks", with_window)
    with census:
        train(RUN, tmp_path / "run")
    return {k: v / (LAST - FIRST) for k, v in census.counts.items()}, window


def plain_operators(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> dict:
    """One plain step's operators: forward, CE, zero_grad, backward, fused Adam (as seqlab
    builds it), counted after two steps have made the optimizer's state."""
    from seqlab.config.training import TrainingConfig

    optimizer = build_optimizer(model.parameters(), TrainingConfig())
    census = OperatorCount()

    def step() -> None:
        logits, _ = model(batch["inputs"])
        optimizer.zero_grad(set_to_none=True)
        per_step_ce(logits, batch["targets"]).backward()
        optimizer.step()

    step(), step()
    with census:
        census.on = True
        step()
    return dict(census.counts)


@pytest.mark.parametrize("deferred", [False, True], ids=["reads", "deferred"])
def test_a_step_adds_few_operators_to_the_plain_step(tmp_path: Path, monkeypatch, deferred):
    if deferred:
        monkeypatch.setattr(SeqlabObjective, "can_defer_reads", lambda self: True)
    seqlab, window = seqlab_operators(tmp_path, monkeypatch)
    assert window.model is not None and window.batch is not None
    plain = plain_operators(window.model, window.batch)
    extra = {
        name: seqlab.get(name, 0) - plain.get(name, 0)
        for name in set(seqlab) | set(plain)
        if seqlab.get(name, 0) != plain.get(name, 0)
    }
    assert sum(plain.values()) > 40  # the count sees the model's own operators
    listed = ", ".join(f"{k} {v:+g}" for k, v in sorted(extra.items(), key=lambda kv: -kv[1]))
    assert sum(extra.values()) <= ALLOWED_EXTRA, (
        f"{sum(extra.values()):g} operators a step beyond the plain step's (at most "
        f"{ALLOWED_EXTRA}): {listed}"
    )
