"""The callbacks group: best checkpoint by a validation metric, stopping once the task is
solved or after a plateau."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

from seqlab.engine.callbacks import (
    CallbacksConfig,
    ProgressLog,
    ShowsReadTrainingLoss,
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
