"""On a GPU, a training step reads nothing back to the host: the loss and gradient norm stay
on the device, a bad step is skipped by the fused optimizer there, and the values are read
back together with the step scalars. The mode is forced on the CPU here (the fused Adam
kernel honours ``found_inf`` on the CPU too), so the same code is checked without a GPU."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch

import seqlab.objectives.per_step as per_step
from seqlab.errors import NonFiniteLossError
from seqlab.objectives.base import SeqlabObjective
from tests.conftest import TINY_TASK, train

RUN = [
    "model=lstm",
    "task=copy",
    "model.hidden_size=16",
    "trainer.max_epochs=2",
    "trainer.limit_val_batches=1",
    "trainer.log_every_n_steps=4",
    "trainer.enable_progress_bar=false",
    *TINY_TASK["copy"],
]
TBPTT = [*RUN, "training.tbptt_steps=5"]

READS = ("item", "tolist", "__float__", "__int__", "__bool__")


def _train_ce(run_dir: Path) -> list[tuple[int, str]]:
    with (run_dir / "metrics.csv").open() as handle:
        return [(int(r["step"]), r["train/ce"]) for r in csv.DictReader(handle) if r["train/ce"]]


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SeqlabObjective, "can_defer_reads", lambda self: True)


@pytest.mark.parametrize("overrides", [RUN, TBPTT], ids=["full", "tbptt"])
def test_deferred_reads_change_no_number(tmp_path: Path, monkeypatch, overrides):
    immediate = train(overrides, tmp_path / "immediate")
    monkeypatch.setattr(SeqlabObjective, "can_defer_reads", lambda self: True)
    later = train(overrides, tmp_path / "deferred")
    tests = {k: v for k, v in immediate.items() if k.startswith("test/")}
    assert {k: later[k] for k in tests} == tests
    assert _train_ce(tmp_path / "deferred") == _train_ce(tmp_path / "immediate")
    assert later["optimizer_steps"] == immediate["optimizer_steps"]


def test_a_deferred_step_reads_nothing_back(tmp_path: Path, monkeypatch, deferred):
    """Every read of a tensor's value inside training steps, counted: none at a step, one
    batched read per burst of trainer.log_every_n_steps steps (loss, norm; then scalars)."""
    counts = {"steps": 0, "reads": 0}
    inside = {"step": False}
    for name in READS:
        real = getattr(torch.Tensor, name)

        def counted(self, *args, _real=real, **kwargs):  # type: ignore[no-untyped-def]
            if inside["step"]:
                counts["reads"] += 1
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    step = per_step.PerStepObjective.training_step

    def counted_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        counts["steps"] += 1
        inside["step"] = True
        try:
            return step(self, batch, batch_idx)
        finally:
            inside["step"] = False

    monkeypatch.setattr(per_step.PerStepObjective, "training_step", counted_step)
    train([*RUN, "trainer.max_epochs=4"], tmp_path / "run")
    bursts = counts["steps"] // 4
    assert counts["steps"] == 12 and counts["reads"] <= 2 * bursts, counts


def test_a_bad_step_on_the_device_is_skipped_and_stops_the_run(tmp_path, monkeypatch, deferred):
    real_ce = per_step.per_step_ce
    calls = {"n": 0}

    def nan_at_third_step(logits, targets):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        loss = real_ce(logits, targets)
        return loss * math.nan if calls["n"] == 3 else loss

    monkeypatch.setattr(per_step, "per_step_ce", nan_at_third_step)
    updates = []
    real_step = torch.optim.Adam.step

    def recorded(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        before = [p.detach().clone() for p in self.param_groups[0]["params"]]
        result = real_step(self, *args, **kwargs)
        after = self.param_groups[0]["params"]
        updates.append(any(not torch.equal(a, b) for a, b in zip(after, before, strict=True)))
        return result

    monkeypatch.setattr(torch.optim.Adam, "step", recorded)
    with pytest.raises(NonFiniteLossError, match=r"became nan at optimizer step 2 \(epoch 0"):
        train(RUN, tmp_path / "run")
    assert updates == [True, True, False]  # the third step changed nothing; then the read


def test_the_whole_training_loop_reads_values_only_at_flushes_and_epoch_ends(
    tmp_path: Path, monkeypatch, deferred
):
    """Between the steps too (Lightning's hooks, logging, the loaders, the progress bar):
    every read of a tensor's value from the first training step to the end of fit, with the
    step it happened at. Reads belong to the burst flushes (every trainer.log_every_n_steps
    steps: the objective's ``settle``) or to the epoch ends (checkpoint, epoch metrics), never
    to the steps in between."""
    steps_of_reads: list[int] = []
    flushes: set[int] = set()
    state = {"on": False, "step": -1}
    for name in READS:
        real = getattr(torch.Tensor, name)

        def counted(self, *args, _real=real, **kwargs):  # type: ignore[no-untyped-def]
            if state["on"]:
                steps_of_reads.append(state["step"])
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    step, test_step = per_step.PerStepObjective.training_step, per_step.PerStepObjective.test_step
    settle = SeqlabObjective.settle

    def counted_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        state["on"], state["step"] = True, state["step"] + 1
        return step(self, batch, batch_idx)

    def settling(self):  # type: ignore[no-untyped-def]
        if self._unread:
            flushes.add(state["step"])
        return settle(self)

    def testing(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        state["on"] = False
        return test_step(self, batch, batch_idx)

    monkeypatch.setattr(per_step.PerStepObjective, "training_step", counted_step)
    monkeypatch.setattr(SeqlabObjective, "settle", settling)
    monkeypatch.setattr(per_step.PerStepObjective, "test_step", testing)
    options = ("trainer.max_epochs", "trainer.log_every", "trainer.enable_progress_bar")
    run = [r for r in RUN if not r.startswith(options)]
    on = ["trainer.max_epochs=2", "trainer.log_every_n_steps=5", "trainer.enable_progress_bar=true"]
    train([*run, *on, "task.n_train=448"], tmp_path / "run")  # 14 steps an epoch
    steps = state["step"] + 1
    epoch_ends = {steps // 2 - 1, steps - 1}
    between = set(range(1, steps)) - flushes - epoch_ends
    quiet = [s for s in steps_of_reads if s in between]
    assert steps == 28 and len(flushes) >= 4 and len(between) >= 15, (flushes, epoch_ends)
    assert not quiet, sorted(set(quiet))


@pytest.mark.parametrize(
    ("loss", "norm"),
    [
        (0.5, 1.0),
        (2.0, 0.0),  # a loss at the bound is still good
        (math.nan, 1.0),
        (math.inf, 1.0),
        (-math.inf, 1.0),
        (2.0 + 1e-3, 1.0),  # past the bound
        (1e30, 1.0),
        (0.5, math.nan),
        (0.5, math.inf),
    ],
)
def test_the_device_check_flags_the_steps_the_cpu_path_stops(loss: float, norm: float):
    """bad_step (the fused optimizer's found_inf) against the CPU path's test: a loss or norm
    that is not finite, or a finite loss past the bound (2.0 here)."""
    from seqlab.objectives.base import bad_step

    stops = not math.isfinite(loss) or loss > 2.0 or not math.isfinite(norm)
    flag = bad_step(torch.tensor([loss, norm]), 2.0)
    assert flag.dtype == torch.float32 and flag.shape == ()
    assert float(flag) == float(stops)
