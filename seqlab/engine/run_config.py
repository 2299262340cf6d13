"""The typed schema of a whole run's config (configs/train.yaml lists it first in its
defaults), and the registration of every group's schema in Hydra's ConfigStore."""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

import seqlab.models
import seqlab.tasks
from seqlab.config.schema import store_schema
from seqlab.config.training import TrainingConfig
from seqlab.diagnostics.gradient_flow import DiagnosticsConfig
from seqlab.engine.callbacks import CallbacksConfig
from seqlab.engine.run_dir import default_run_dir, hydra_output_subdir
from seqlab.engine.runtime import RuntimeConfig
from seqlab.models.search import DecodingConfig


@dataclass
class RunConfig:
    """Top-level keys of ``python -m seqlab.train``.

    seed: seeds everything (lightning.seed_everything); label: this run's name in plots and
    summaries (null = derived from the model); resume: a run dir to continue (seqlab.engine.resume).
    decoding, diagnostics, runtime: typed option blocks.
    task, model, training, trainer, callbacks: the config groups, each typed by its own
    schema.
    """

    seed: int = 0
    label: str | None = None
    resume: str | None = None
    decoding: DecodingConfig = field(default_factory=DecodingConfig)
    diagnostics: DiagnosticsConfig = field(default_factory=DiagnosticsConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    task: Any = MISSING
    model: Any = MISSING
    training: Any = MISSING
    trainer: Any = MISSING
    callbacks: Any = MISSING


def short_dirname(text: str, limit: int = 100) -> str:
    """``text`` if at most ``limit`` characters, else its start and a hash of the whole: sweep
    job dirs are named by their overrides, and file names longer than 255 bytes fail."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 9]}_{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def gpus_per_node(accelerator: str, devices: Any) -> int:
    """GPUs a Slurm job asks for (configs/hydra/launcher/slurm.yaml): trainer.devices on a
    GPU accelerator (1 for auto), none on CPU."""
    if str(accelerator) not in ("gpu", "cuda"):
        return 0
    return int(devices) if str(devices).isdigit() else 1


def register_schemas() -> None:
    """Store every schema before configs are composed: each module of seqlab.models and
    seqlab.tasks declares its schemas in ``SCHEMAS`` (name -> class), so a new model or task
    module needs no registration elsewhere; then the training and callbacks groups, the run's
    root schema as ``seqlab_run``, and the resolvers of run and sweep dir names."""
    for group, package in (("model", seqlab.models), ("task", seqlab.tasks)):
        for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            module = importlib.import_module(info.name)
            for name, schema in getattr(module, "SCHEMAS", {}).items():
                store_schema(group, name, schema)
    store_schema("training", "training", TrainingConfig)
    store_schema("callbacks", "callbacks", CallbacksConfig)
    ConfigStore.instance().store(name="seqlab_run", node=RunConfig)
    resolvers = {
        "seqlab_short": short_dirname,
        "seqlab_run_dir": default_run_dir,
        "seqlab_hydra_subdir": hydra_output_subdir,
        "seqlab_gpus_per_node": gpus_per_node,
    }
    for name, resolver in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver, use_cache=True)
