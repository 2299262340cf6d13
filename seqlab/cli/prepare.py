"""``python -m seqlab.prepare task=tsv task.train_path=... task.valid_path=... task.test_path=...``:
tokenize and encode a task's files once, into the encoded-data cache, with a progress bar.

For very large corpora: the first ``python -m seqlab.train`` with the same task options then
reads the cache instead of tokenizing (any run does that after the first; this command only
moves the work out of the first training run). Takes the same ``task=...`` and ``task.*``
overrides as train; other groups are ignored.
"""

from __future__ import annotations

import sys
import time

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from seqlab.config.schema import TaskConfig, instantiate_config
from seqlab.engine.run import CONFIG_DIR
from seqlab.engine.run_config import register_schemas
from seqlab.errors import ConfigError, error_boundary
from seqlab.text import cache

USAGE = (
    "usage: python -m seqlab.prepare task=tsv task.train_path=FILE task.valid_path=FILE "
    "task.test_path=FILE [task.tokenizer=...] [task.vocab_size=...] ..."
)


def prepare(overrides: list[str]) -> str:
    """Encode the task's data into the cache; returns the report line."""
    task_overrides = [o for o in overrides if o.lstrip("+~").split("=")[0].split(".")[0] == "task"]
    if len(task_overrides) != len(overrides):
        ignored = sorted(set(overrides) - set(task_overrides))
        print(f"seqlab.prepare: ignoring {' '.join(ignored)} (only task options matter here)")
    register_schemas()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", overrides=task_overrides)
    task = instantiate_config(OmegaConf.to_container(cfg.task), "task", TaskConfig)
    datamodule = task.build(task.offers[0])
    cache_key = getattr(datamodule, "cache_key", lambda: None)()
    if not cache_key:
        raise ConfigError(
            f"task={task.name} has nothing to prepare: only tasks that read large files into "
            f"the encoded-data cache (task=tsv with task.cache=true) are encoded ahead of "
            f"training; this task builds its data in seconds at every run"
        )
    if cache.load(cache_key) is not None:
        return f"seqlab.prepare: already prepared ({cache.cache_dir() / cache_key}.pt)"
    started = time.perf_counter()
    datamodule.show_progress = True
    datamodule.setup()
    sizes = ", ".join(f"{split} {len(data):,}" for split, data in datamodule.splits.items())
    return (
        f"seqlab.prepare: {sizes} pairs encoded in {time.perf_counter() - started:.1f} s; "
        f"vocabularies {len(datamodule.source_vocab):,} / {len(datamodule.target_vocab):,}. "
        f"python -m seqlab.train with the same task options reads them from the cache."
    )


def main(argv: list[str] | None = None) -> int:
    with error_boundary("seqlab.prepare", USAGE):
        print(prepare(sys.argv[1:] if argv is None else argv))
    return 0
