"""The callbacks group: best checkpoint by a validation metric, stopping once the task is
solved or after a plateau."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

import seqlab.engine.callbacks as callbacks_module
from seqlab.engine.callbacks import (
    CallbacksConfig,
    ProgressLog,
    ShowsReadTrainingLoss,
    ThrottledRedraw,
    TrainingProgressBar,
    TrainingTqdmBar,
    build_callbacks,
    check_monitored_metrics,
)
from seqlab.errors import ConfigError
from seqlab.spec import PER_STEP, TaskSpec

SOLVABLE = TaskSpec("copy", PER_STEP, 10, 9, solved_when=("val/recall_acc", 0.995))


def test_the_task_declares_when_it_is_solved(tmp_path: Path):
    built = build_callbacks(CallbacksConfig(), SOLVABLE, tmp_path)
    checkpoint = built.checkpoint
    assert isinstance(checkpoint, ModelCheckpoint) and checkpoint.monitor == "val/ce"
    assert Path(checkpoint.dirpath) == tmp_path / "checkpoints"
    stops = [c for c in built.all if isinstance(c, EarlyStopping)]
    assert [(s.monitor, s.stopping_threshold) for s in stops] == [("val/recall_acc", 0.995)]


def test_stopping_when_solved_can_be_turned_off_and_patience_added(tmp_path: Path):
    config = CallbacksConfig(
        monitor="val/acc", monitor_mode="max", stop_when_solved=False, patience=3
    )
    built = build_callbacks(config, SOLVABLE, tmp_path)
    stops = [c for c in built.all if isinstance(c, EarlyStopping)]
    assert [(s.monitor, s.patience) for s in stops] == [("val/acc", 3)]
    assert built.checkpoint.mode == "max"
    no_criterion = TaskSpec("tagging", PER_STEP, 10, 9)
    built = build_callbacks(CallbacksConfig(), no_criterion, tmp_path)
    assert not [c for c in built.all if isinstance(c, EarlyStopping)]


def test_the_monitored_metric_must_be_logged():
    check_monitored_metrics(CallbacksConfig(), ["val/ce", "val/acc"])
    with pytest.raises(
        ConfigError, match="callbacks.monitor=val/bleu is not logged.*val/ce, val/acc"
    ):
        check_monitored_metrics(CallbacksConfig(monitor="val/bleu"), ["val/ce", "val/acc"])


def test_the_progress_bar_shows_the_loss_already_read_back(tmp_path: Path):
    """The bar takes train/ce from the objective's ``shown_train_loss`` (a float, read back
    with the step scalars), never from a logged device tensor that Lightning would read at
    every batch end (a host-device synchronisation a step on a GPU)."""
    with_bar = build_callbacks(CallbacksConfig(), SOLVABLE, tmp_path, progress_bar=True)
    bars = [c for c in with_bar.all if isinstance(c, ShowsReadTrainingLoss)]
    assert len(bars) == 1 and not [c for c in with_bar.all if isinstance(c, ProgressLog)]
    trainer = SimpleNamespace(progress_bar_metrics={"val/ce": 0.5}, loggers=[])
    module = SimpleNamespace(shown_train_loss=None)
    assert bars[0].get_metrics(trainer, module) == {"val/ce": 0.5}
    module.shown_train_loss = 1.25
    assert list(bars[0].get_metrics(trainer, module).items()) == [
        ("train/ce", 1.25),
        ("val/ce", 0.5),
    ]
    without = build_callbacks(CallbacksConfig(), SOLVABLE, tmp_path, progress_bar=False)
    assert not [c for c in without.all if isinstance(c, ShowsReadTrainingLoss)]


class _RecordedBar:
    """A bar's batch-end hooks, recording which batches were drawn."""

    def __init__(self) -> None:
        self.drawn: list[tuple[str, int]] = []

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:  # type: ignore[no-untyped-def]
        self.drawn.append(("train", batch_idx))

    def on_validation_batch_end(self, trainer, module, outputs, batch, batch_idx, loader=0) -> None:  # type: ignore[no-untyped-def]
        self.drawn.append(("val", batch_idx))

    def on_test_batch_end(self, trainer, module, outputs, batch, batch_idx, loader=0) -> None:  # type: ignore[no-untyped-def]
        self.drawn.append(("test", batch_idx))


class _Throttled(ThrottledRedraw, _RecordedBar):
    pass


def test_the_progress_bar_redraws_ten_times_a_second_and_at_each_loops_end(monkeypatch):
    """Lightning's bars redraw at every batch (0.35 ms a step at a terminal, measured); seqlab's
    at most every 0.1 s, and always at the last batch of a loop and at the step that ends
    trainer.max_steps, so the bar never stops on a stale count."""
    now = {"t": 100.0}
    monkeypatch.setattr(callbacks_module.time, "monotonic", lambda: now["t"])
    trainer = SimpleNamespace(
        num_training_batches=50,
        max_steps=-1,
        global_step=0,
        sanity_checking=False,
        num_val_batches=[4],
        num_test_batches=[3, 2],
    )
    bar = _Throttled()
    for i in range(50):  # 50 training batches in 0.49 s
        trainer.global_step = i + 1
        bar.on_train_batch_end(trainer, None, None, None, i)
        now["t"] += 0.01
    assert bar.drawn == [("train", i) for i in (0, 10, 20, 30, 40, 49)]
    bar.drawn.clear()
    for i in range(4):
        bar.on_validation_batch_end(trainer, None, None, None, i, 0)
    for loader, batches in enumerate((3, 2)):
        for i in range(batches):
            bar.on_test_batch_end(trainer, None, None, None, i, loader)
    assert bar.drawn == [("val", 3), ("test", 2), ("test", 1)]  # each loop's last batch
    bar.drawn.clear()
    trainer.max_steps, trainer.global_step = 53, 52
    bar.on_train_batch_end(trainer, None, None, None, 2)
    trainer.global_step = 53
    bar.on_train_batch_end(trainer, None, None, None, 3)  # the last step of the budget
    assert bar.drawn == [("train", 3)]
    for bar_class in (TrainingProgressBar, TrainingTqdmBar):  # both of Lightning's bars
        assert bar_class.__mro__.index(ThrottledRedraw) < 2
