"""The callbacks group: best checkpoint by a validation metric, stopping once the task is
solved or after a plateau."""

from __future__ import annotations

from pathlib import Path

import pytest
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

from seqlab.engine.callbacks import CallbacksConfig, build_callbacks, check_monitored_metrics
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
