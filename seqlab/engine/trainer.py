"""The ``trainer`` group: a ``lightning.Trainer`` named by ``_target_`` (configs/trainer/),
checked before anything runs, with seqlab's loggers and callbacks added."""

from __future__ import annotations

import difflib
import inspect
import os
import re
import sys
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.fabric.plugins.environments import SLURMEnvironment
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig, OmegaConf

from seqlab.config.targets import TRAINER_CLASSES, check_targets, resolve_target
from seqlab.engine.checkpoint_io import AtomicCheckpointIO
from seqlab.errors import ConfigError

# Trainer arguments seqlab sets itself: the run dir, its loggers, callbacks and checkpoint IO.
SET_BY_SEQLAB = ("default_root_dir", "logger", "callbacks", "plugins")
# Lightning options that do nothing, or the wrong thing, under seqlab's manual optimisation.
# (key: the value that changes nothing, what to use instead)
MANUAL_OPTIMISATION = {
    "gradient_clip_val": (None, "clip with training.clip_norm (or training.clip_value)"),
    "gradient_clip_algorithm": (None, "clip with training.clip_norm (or training.clip_value)"),
    "accumulate_grad_batches": (1, "use a larger task.batch_size"),
}


def trainer_options(node: DictConfig | dict[str, Any]) -> dict[str, Any]:
    """The trainer group as keyword arguments (``_target_`` included), every key checked
    against the target class's signature and the device count against what seqlab runs."""
    options: dict[str, Any] = (
        OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    )  # type: ignore[assignment]
    target = options.get("_target_", "lightning.pytorch.Trainer")
    check_targets(options, "trainer")  # every nested _target_ too, by name, before any import
    trainer_class = resolve_target(target, "trainer")
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
    check_trainer_values(options)
    check_devices(options)
    return options


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require_int(key: str, value: Any, minimum: int, meaning: str, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if not _is_int(value) or value < minimum:
        null = " or null" if allow_none else ""
        note = f", {meaning}" if meaning else ""
        raise ConfigError(
            f"trainer.{key} must be an integer >= {minimum}{null}{note}; got {value!r}"
        )


def _require_fraction_or_count(key: str, value: Any, zero_ok: bool) -> None:
    if value is None:
        return
    low = 0 if zero_ok else 1
    if _is_int(value) and value >= low:
        return
    if isinstance(value, float) and (value >= 0.0 if zero_ok else value > 0.0) and value <= 1.0:
        return
    raise ConfigError(
        f"trainer.{key} must be a number of batches (an integer >= {low}), a fraction in "
        f"{'[0' if zero_ok else '(0'}, 1] or null; got {value!r}"
    )


def check_trainer_values(options: dict[str, Any]) -> None:
    """The budget, logging and device options, checked before anything runs (Lightning
    would refuse some of them only after the data is built, with a traceback)."""
    for key, (inert, advice) in MANUAL_OPTIMISATION.items():
        if options.get(key, inert) != inert:
            raise ConfigError(f"trainer.{key} does not apply: seqlab optimises manually; {advice}")
    get = options.get
    _require_int("max_epochs", get("max_epochs"), -1, "-1 = no limit", allow_none=True)
    _require_int("min_epochs", get("min_epochs"), 0, "", allow_none=True)
    _require_int("max_steps", get("max_steps", -1), -1, "-1 = no limit", allow_none=False)
    _require_int("min_steps", get("min_steps"), 0, "", allow_none=True)
    _require_int("log_every_n_steps", get("log_every_n_steps", 50), 1, "", allow_none=False)
    _require_int("num_sanity_val_steps", get("num_sanity_val_steps", 0), -1, "", False)
    _require_int("check_val_every_n_epoch", get("check_val_every_n_epoch"), 1, "", True)
    for key in ("limit_train_batches", "limit_val_batches", "limit_test_batches"):
        _require_fraction_or_count(key, get(key), zero_ok=True)
    _require_fraction_or_count("val_check_interval", get("val_check_interval"), zero_ok=False)
    max_time = get("max_time")
    if max_time is not None and not (
        isinstance(max_time, dict) or re.fullmatch(r"\d+:\d\d:\d\d:\d\d", str(max_time))
    ):
        raise ConfigError(
            f"trainer.max_time must be DD:HH:MM:SS (e.g. trainer.max_time=00:00:05:00) or "
            f"null; got {max_time!r}"
        )
    progress = get("enable_progress_bar", "auto")
    if progress != "auto" and not isinstance(progress, bool):
        raise ConfigError(
            f"trainer.enable_progress_bar must be true, false or auto; got {progress!r}"
        )
    accelerator = str(get("accelerator", "auto"))
    check_precision(get("precision", "32-true"), accelerator)
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"trainer.accelerator={accelerator} (trainer=gpu), but PyTorch sees no GPU on this "
            f"machine (torch.cuda.is_available() is False); use trainer=cpu"
        )


PRECISIONS = ("32-true", "32", "bf16-mixed", "16-mixed", "64-true", "64")


def check_precision(precision: Any, accelerator: str) -> None:
    """trainer.precision: 32-true (default), bf16-mixed (CPU and GPU autocast to bfloat16),
    16-mixed (GPU: float16 autocast with a loss scaler), 64-true."""
    value = str(precision)
    if value not in PRECISIONS:
        raise ConfigError(
            f"trainer.precision={precision!r} is not supported; choose one of "
            f"{', '.join(PRECISIONS)} (bf16-mixed on CPU, 16-mixed on GPU)"
        )
    if value == "16-mixed" and accelerator == "cpu":
        raise ConfigError(
            "trainer.precision=16-mixed needs a GPU (float16 autocast with a loss scaler); on "
            "CPU use trainer.precision=bf16-mixed"
        )


def check_validation_interval(options: dict[str, Any], train_batches: int) -> None:
    """An integer trainer.val_check_interval counts training batches: it must fit in an epoch
    (Lightning would stop with a traceback once training starts)."""
    interval = options.get("val_check_interval")
    if not _is_int(interval):
        return
    limit = options.get("limit_train_batches")
    if _is_int(limit):
        train_batches = min(train_batches, limit)
    elif isinstance(limit, float):
        train_batches = int(train_batches * limit)
    if interval > train_batches and options.get("check_val_every_n_epoch", 1) is not None:
        raise ConfigError(
            f"trainer.val_check_interval={interval} batches, but an epoch has {train_batches} "
            f"training batches; use a smaller value, a fraction of the epoch (e.g. 0.5), or "
            f"null (validate once per epoch)"
        )


# Strategies seqlab runs multi-process training with: Lightning's DDP with its subprocess
# launcher (each rank runs the command line again; under Slurm, Slurm starts the ranks).
DDP_STRATEGIES = ("auto", "ddp", "ddp_find_unused_parameters_true")


def device_count(trainer: dict[str, Any]) -> int | None:
    """Devices per node that ``trainer.devices`` asks for: an integer, a list of indices,
    or None for every GPU there is ("auto" or -1 on a GPU run; "auto" on CPU is one)."""
    devices = trainer.get("devices", 1)
    if isinstance(devices, str) and devices.strip().lstrip("-").isdigit():
        devices = int(devices)
    if isinstance(devices, (list, tuple)):
        return len(devices)
    if devices == "auto":
        return 1 if trainer.get("accelerator") == "cpu" else None
    if devices == -1:
        return None
    return int(devices)


def processes(trainer: dict[str, Any]) -> tuple[int, int]:
    """(processes on this node, processes in all) of a run with these trainer options: the
    devices per node (every visible GPU for "auto"/-1) times ``num_nodes``."""
    per_node = device_count(trainer)
    if per_node is None:
        per_node = max(1, torch.cuda.device_count())
    return per_node, per_node * int(trainer.get("num_nodes") or 1)


def check_devices(trainer: dict[str, Any]) -> None:
    """trainer.devices (an integer >= 1, a list of indices, "auto" or -1) and num_nodes
    (>= 1); more than one process in all trains with DDP, so ``strategy`` must be DDP."""
    devices, nodes = trainer.get("devices", 1), trainer.get("num_nodes", 1)
    valid = (
        devices in ("auto", -1, "-1")
        or (_is_int(devices) and devices >= 1)
        or (isinstance(devices, str) and devices.isdigit() and int(devices) >= 1)
        or (isinstance(devices, (list, tuple)) and len(devices) > 0)
    )
    if not valid:
        raise ConfigError(
            f"trainer.devices must be a number of devices >= 1, a list of device indices, "
            f"auto or -1 (every GPU); got {devices!r}"
        )
    _require_int("num_nodes", nodes, 1, "", allow_none=True)
    strategy = str(trainer.get("strategy", "auto"))
    if processes(trainer)[1] > 1 and strategy not in DDP_STRATEGIES:
        raise ConfigError(
            f"trainer.strategy={strategy} with trainer.devices={devices} (num_nodes="
            f"{nodes}): seqlab trains on several devices with DDP only; leave trainer.strategy "
            f"at auto (or ddp)"
        )


def progress_bar_enabled(setting: Any) -> bool:
    """``auto``: on for an interactive terminal, off under CI=true or when output is piped."""
    if setting == "auto":
        return os.environ.get("CI", "").lower() != "true" and sys.stderr.isatty()
    return bool(setting)


def build_trainer(
    options: dict[str, Any], run_dir: Path, callbacks: list[L.Callback], loggers: list[Logger]
) -> L.Trainer:
    """The Trainer writing into ``run_dir`` through ``loggers``, with atomic checkpoints."""
    plugins: list[Any] = [AtomicCheckpointIO()]
    if SLURMEnvironment.detect():  # seqlab writes the checkpoint and requeues (Preemption)
        plugins.append(SLURMEnvironment(auto_requeue=False))
    options = {
        **options,
        "enable_progress_bar": progress_bar_enabled(options.get("enable_progress_bar", "auto")),
        # seqlab's samplers shard the training data themselves (seqlab.data.batching);
        # Lightning's DistributedSampler would replace them and shard the evaluation splits
        "use_distributed_sampler": False,
    }
    if processes(options)[1] > 1 and options.get("strategy", "auto") == "auto":
        options["strategy"] = "ddp"  # gloo on CPU, nccl on GPU
    trainer_class = resolve_target(options.pop("_target_", TRAINER_CLASSES[0]), "trainer")
    profiler = options.get("profiler")
    if isinstance(profiler, dict) and "_target_" in profiler:
        arguments = {k: v for k, v in profiler.items() if k != "_target_"}
        options["profiler"] = resolve_target(profiler["_target_"], "trainer.profiler")(**arguments)
    try:
        return trainer_class(
            **options,
            default_root_dir=run_dir,
            callbacks=callbacks,
            logger=loggers,
            plugins=plugins,
        )
    except (MisconfigurationException, ImportError, TypeError, ValueError) as error:
        raise ConfigError(f"trainer: {error}") from None
