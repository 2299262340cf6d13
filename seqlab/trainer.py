"""The ``trainer`` group: a ``lightning.Trainer`` named by ``_target_`` (configs/trainer/),
checked before anything runs, with seqlab's loggers and callbacks added."""

from __future__ import annotations

import difflib
import inspect
import os
import sys
from pathlib import Path
from typing import Any

import lightning as L
from hydra.errors import InstantiationException
from hydra.utils import get_class, instantiate
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from omegaconf import DictConfig, OmegaConf

from seqlab.errors import ConfigError

# Trainer arguments seqlab sets itself: the run dir, its loggers and callbacks.
SET_BY_SEQLAB = ("default_root_dir", "logger", "callbacks")


def trainer_options(node: DictConfig | dict[str, Any]) -> dict[str, Any]:
    """The trainer group as keyword arguments (``_target_`` included), every key checked
    against the target class's signature and the device count against what seqlab runs."""
    options: dict[str, Any] = (
        OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    )  # type: ignore[assignment]
    target = options.get("_target_", "lightning.pytorch.Trainer")
    try:
        trainer_class = get_class(str(target))
    except Exception as error:  # hydra raises ImportError or ValueError with its own text
        raise ConfigError(f"trainer._target_={target} cannot be imported: {error}") from None
    known = set(inspect.signature(trainer_class.__init__).parameters) - {"self"}
    for key in options:
        if key == "_target_":
            continue
        if key in SET_BY_SEQLAB:
            raise ConfigError(f"trainer.{key} is set by seqlab (the run dir's own); remove it")
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean trainer.{close[0]}?)" if close else ""
            raise ConfigError(f"unknown key trainer.{key}{hint}: not an argument of {target}")
    check_single_device(options)
    return options


def check_single_device(trainer: dict[str, Any]) -> None:
    """seqlab trains in one process on one device: its batch samplers (token budgets, length
    grouping, whole-batch slicing) are not sharded across processes, so a multi-device
    (DDP) run would train each process on every batch. Refuse it before anything starts."""
    devices = trainer.get("devices", 1)
    nodes = trainer.get("num_nodes", 1)
    if isinstance(devices, (int, str)):
        # "auto" means one device on a CPU run, every GPU on a GPU run
        single = devices in (1, "1") or (devices == "auto" and trainer.get("accelerator") == "cpu")
    else:  # a list of device indices
        single = len(devices) == 1
    if not single or nodes not in (1, None):
        raise ConfigError(
            f"trainer.devices={devices} (num_nodes={nodes}): seqlab trains on one device; "
            f"multi-device (DDP) training is not supported yet. Use trainer.devices=1 "
            f"(trainer=gpu uses one GPU)."
        )


def progress_bar_enabled(setting: Any) -> bool:
    """``auto``: on for an interactive terminal, off under CI=true or when output is piped."""
    if setting == "auto":
        return os.environ.get("CI", "").lower() != "true" and sys.stderr.isatty()
    return bool(setting)


def build_trainer(
    options: dict[str, Any], run_dir: Path, callbacks: list[L.Callback]
) -> tuple[L.Trainer, TensorBoardLogger]:
    """The Trainer with TensorBoard and CSV loggers writing into ``run_dir``."""
    tensorboard = TensorBoardLogger(
        save_dir=run_dir, name="tensorboard", version="", default_hp_metric=False
    )
    loggers = [tensorboard, CSVLogger(save_dir=run_dir, name="", version="")]
    options = {
        "_target_": "lightning.pytorch.Trainer",
        **options,
        "enable_progress_bar": progress_bar_enabled(options.get("enable_progress_bar", "auto")),
    }
    try:
        trainer = instantiate(
            options, default_root_dir=run_dir, callbacks=callbacks, logger=loggers
        )
    except InstantiationException as error:
        cause = error.__cause__ or error
        raise ConfigError(f"trainer: {cause}") from None
    except MisconfigurationException as error:
        raise ConfigError(f"trainer: {error}") from None
    return trainer, tensorboard
