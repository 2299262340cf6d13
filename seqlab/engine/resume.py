"""Continuing a run that stopped: its own config, its newest checkpoint, a longer budget at
most, and its logs cut back to that checkpoint.

``python -m seqlab.train resume=<run dir>`` (a sweep job's dir too) continues the run in the
same directory; seqlab.engine.run.resume_run does the work, with the helpers here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from seqlab.config.targets import check_targets
from seqlab.config.upgrade import upgrade_config
from seqlab.engine.checkpoint_io import RESUME_DIR, remove_partial_checkpoints
from seqlab.engine.run_dir import require_run_dir
from seqlab.errors import CheckpointError, ConfigError
from seqlab.reporting.results import RESULTS_FILE, read_results

# What a resume may change: the budget, and only to make it longer.
BUDGET_KEYS = ("trainer.max_epochs", "trainer.max_steps", "trainer.max_time")


@dataclass
class ResumePoint:
    """The checkpoint a run continues from, the optimizer step it was written at, and how
    many rows of metrics.csv were written by then."""

    checkpoint: Path
    step: int
    csv_rows: int | None


def run_config(run_dir: Path) -> DictConfig:
    """The config the run in ``run_dir`` ran with (config.yaml)."""
    require_run_dir(run_dir)
    path = run_dir / "config.yaml"
    try:
        loaded = OmegaConf.to_container(OmegaConf.load(path))
        if not isinstance(loaded, dict):
            raise ConfigError("not a mapping of config groups")
        config = upgrade_config(loaded)
        check_targets(config)  # by name, before anything could be imported
        return OmegaConf.create(config)
    except (ConfigError, OmegaConfBaseException, yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"resume={run_dir}: its config.yaml cannot be used ({error}); seqlab writes it "
            f"once, at the start of the run, so the file was altered. Restore it (its copy "
            f"is in .hydra/config.yaml of a fresh run) or start a new run"
        ) from None


def _budget(value: Any, key: str) -> float:
    """A budget as a number to compare; unlimited is infinity."""
    if value is None or value == -1:
        return float("inf")
    if key == "trainer.max_time":
        days, hours, minutes, seconds = (int(v) for v in str(value).split(":"))
        return ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    return float(value)


def apply_overrides(config: DictConfig, overrides: list[str]) -> tuple[DictConfig, bool]:
    """``config`` with the command line's budget overrides applied; anything else, or a
    shorter budget, is refused. Returns whether the budget grew."""
    longer = False
    for override in overrides:
        key, _, value = override.lstrip("+~").partition("=")
        if key == "resume":
            continue
        if key not in BUDGET_KEYS:
            raise ConfigError(
                f"resume continues a run with its own config (its config.yaml); only a longer "
                f"budget may be given ({', '.join(BUDGET_KEYS)}), not {override}"
            )
        new = OmegaConf.from_dotlist([f"x={value}"]).x
        old = OmegaConf.select(config, key)
        try:
            change = _budget(new, key) - _budget(old, key)
        except (TypeError, ValueError):
            raise ConfigError(f"{key}={value} is not a budget") from None
        if change < 0:
            raise ConfigError(
                f"{key}={value} would shorten the run's budget ({key}={old}); resume can only "
                f"extend it"
            )
        longer = longer or change > 0
        OmegaConf.update(config, key, new)
    return config, longer


def checkpoint_progress(path: Path) -> tuple[int, int | None]:
    """(optimizer step, metrics.csv rows written) saved in a checkpoint; a damaged file is a
    CheckpointError naming it."""
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        state = raw.get("seqlab_state") or {}
        return int(raw["global_step"]), state.get("csv_rows")
    except Exception as error:  # truncated, foreign or pickled objects: all are refused
        detail = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise CheckpointError(
            f"{path} is damaged and cannot be resumed from ({detail}). seqlab writes "
            f"checkpoints whole, so something else cut or changed it; move it away to resume "
            f"from the newest other checkpoint"
        ) from None


def newest_checkpoint(run_dir: Path) -> ResumePoint | None:
    """The checkpoint of the latest optimizer step (the latest written among equals): the
    resumable ones and last.ckpt, all written between batches."""
    checkpoints = run_dir / "checkpoints"
    candidates = [*(checkpoints / RESUME_DIR).glob("step=*.ckpt"), *checkpoints.glob("last.ckpt")]
    points = []
    for path in candidates:
        step, rows = checkpoint_progress(path)
        points.append((step, path.stat().st_mtime, ResumePoint(path, step, rows)))
    return max(points, key=lambda p: p[:2])[2] if points else None


def archive_results(run_dir: Path, step: int) -> None:
    """Keep a finished run's results beside it before it trains further."""
    for name in (RESULTS_FILE, "test_hypotheses.tsv"):
        path = run_dir / name
        if path.exists():
            path.rename(path.with_name(f"{path.stem}.step{step}{path.suffix}"))


def prepare_resume(run_dir: Path, overrides: list[str]) -> tuple[DictConfig, ResumePoint]:
    """The config and checkpoint to continue ``run_dir`` with, or a ConfigError saying why
    it cannot be continued. Changes nothing: :func:`begin_resume` does, once the config is
    known to be valid."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConfigError(f"resume={run_dir}: no such directory")
    config, longer = apply_overrides(run_config(run_dir), overrides)
    point = newest_checkpoint(run_dir)
    if point is None:
        raise ConfigError(
            f"resume={run_dir}: the run wrote no checkpoint yet, so there is nothing to "
            f"continue; start it again instead"
        )
    if (run_dir / RESULTS_FILE).exists():
        results = read_results(run_dir)
        if results.get("status") == "diverged":
            raise ConfigError(
                f"resume={run_dir}: the run diverged at optimizer step "
                f"{results.get('optimizer_steps')} ({results.get('error', 'NaN/inf')}); resuming "
                f"would repeat the same steps. Start a new run with training.clip_norm=1.0 or a "
                f"lower training.lr"
            )
        if results.get("status") != "failed" and not longer:
            raise ConfigError(
                f"resume={run_dir}: the run finished (results.json exists); to train it "
                f"further give a longer budget, e.g. trainer.max_epochs=..."
            )
    return config, point


def begin_resume(run_dir: Path, point: ResumePoint) -> None:
    """What continuing a run changes before it trains: half-written checkpoints of a killed
    process go, and the results of the run so far are kept beside it (results.step<S>.json)."""
    for partial in remove_partial_checkpoints(run_dir):
        print(f"seqlab: removed {partial}, a checkpoint left half-written by a killed process")
    if (run_dir / RESULTS_FILE).exists():
        if read_results(run_dir).get("status") == "failed":
            print("seqlab: the run had stopped with an error (its results.json); continuing")
        archive_results(run_dir, point.step)
