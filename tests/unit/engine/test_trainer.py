"""The trainer group: arguments of the Trainer class its _target_ names, one device."""

from __future__ import annotations

import pytest

from seqlab.engine.checkpoint_io import AtomicCheckpointIO
from seqlab.engine.trainer import (
    build_trainer,
    check_devices,
    progress_bar_enabled,
    trainer_options,
)
from seqlab.errors import ConfigError


def test_options_are_checked_against_the_trainer_signature():
    options = trainer_options({"_target_": "lightning.pytorch.Trainer", "max_epochs": 3})
    assert options["max_epochs"] == 3
    with pytest.raises(ConfigError, match=r"unknown key trainer.max_epoch \(did you mean"):
        trainer_options({"max_epoch": 3})
    with pytest.raises(ConfigError, match="trainer.callbacks is set by seqlab"):
        trainer_options({"callbacks": []})
    with pytest.raises(ConfigError, match="trainer._target_=nowhere.Trainer is refused"):
        trainer_options({"_target_": "nowhere.Trainer"})


def test_lightning_refusals_become_configuration_errors(tmp_path):
    with pytest.raises(ConfigError, match="trainer: "):
        build_trainer({"accelerator": "tpu", "devices": 1}, tmp_path, [], [])
    trainer = build_trainer({"max_epochs": 1, "enable_progress_bar": False}, tmp_path, [], [])
    assert trainer.max_epochs == 1 and trainer.default_root_dir == str(tmp_path)
    assert isinstance(trainer.strategy.checkpoint_io, AtomicCheckpointIO)


@pytest.mark.parametrize(
    "trainer",
    [
        {"accelerator": "cpu", "devices": 1},
        {"accelerator": "gpu", "devices": "1"},
        {"accelerator": "gpu", "devices": [3]},
        {"accelerator": "cpu", "devices": "auto"},
        {"accelerator": "cpu", "devices": 2},
        {"accelerator": "gpu", "devices": [0, 1]},
        {"accelerator": "gpu", "devices": "auto"},
        {"accelerator": "gpu", "devices": -1},
        {"accelerator": "cpu", "devices": 1, "num_nodes": 2},
    ],
)
def test_one_or_more_devices_are_accepted(trainer):
    check_devices(trainer)


def test_several_processes_train_with_ddp(tmp_path):
    trainer = build_trainer({"devices": 2, "enable_progress_bar": False}, tmp_path, [], [])
    assert type(trainer.strategy).__name__ == "DDPStrategy"
    one = build_trainer({"devices": 1, "enable_progress_bar": False}, tmp_path, [], [])
    assert type(one.strategy).__name__ == "SingleDeviceStrategy"


def test_progress_bar_is_off_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert not progress_bar_enabled("auto")
    assert progress_bar_enabled(True) and not progress_bar_enabled(False)
