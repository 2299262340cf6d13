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
from seqlab.diagnostics import DiagnosticsConfig
from seqlab.models.search import DecodingConfig
from seqlab.resume import default_run_dir, hydra_output_subdir
from seqlab.runtime import RuntimeConfig


@dataclass
class RunConfig:
    """Top-level keys of ``python -m seqlab.train``.

    seed: seeds everything (lightning.seed_everything); label: this run's name in plots and
    summaries (null = derived from the model); resume: a run dir to continue (seqlab.resume).
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
    """Store every schema before configs are composed: import each module of seqlab.models
    and seqlab.tasks (a module stores its schemas when imported, so a new model or task
    module needs no registration elsewhere), the training and callbacks groups, and the
    run's root schema as ``seqlab_run``; and the resolvers of run and sweep dir names."""
    for package in (seqlab.models, seqlab.tasks):
        for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    importlib.import_module("seqlab.training")
    importlib.import_module("seqlab.callbacks")
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
