"""Sweeps on Hydra's launcher and sweeper plugins, through the command line: joblib (jobs side
by side, cores split), submitit's local executor (the Slurm launcher's engine), and Optuna
(a diverged trial fails without ending the study). Slow: run with ``pytest -m slow``."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_sweep

pytestmark = pytest.mark.slow


def _results(sweep: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(sweep.rglob("results.json"))]


def test_joblib_runs_jobs_side_by_side_with_the_cores_split(tmp_path: Path):
    sweep = tmp_path / "sweep"
    run_sweep(
        ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "model=vanilla,gru"], sweep, tmp_path
    )
    runs = _results(sweep)
    assert sorted(r["model"] for r in runs) == ["gru", "vanilla"]
    expected = max(1, (os.cpu_count() or 1) // 2)
    assert all(r["runtime"]["threads"] == expected for r in runs)
    assert len(list(csv.DictReader((sweep / "summary.csv").open()))) == 2


def test_submitit_local_executor_runs_a_sweep(tmp_path: Path):
    """hydra/launcher=slurm's engine (submitit) with its local executor, on CPU."""
    sweep = tmp_path / "sweep"
    run_sweep(
        ["hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10", "seed=1,2"],
        sweep,
        tmp_path,
        timeout=600,
    )
    assert sorted(r["seed"] for r in _results(sweep)) == [1, 2]
    aggregate = list(csv.DictReader((sweep / "summary_by_config.csv").open()))
    assert len(aggregate) == 1 and aggregate[0]["n"] == "2"


def test_optuna_study_goes_on_past_a_diverged_trial(tmp_path: Path):
    sweep = tmp_path / "sweep"
    run_sweep(
        [
            "hydra/sweeper=optuna",
            "hydra.sweeper.sampler.seed=0",
            "hydra.sweeper.n_trials=3",
            "model=vanilla",
            "training.optimizer=sgd",
            "training.lr=choice(1e37,0.01)",
        ],
        sweep,
        tmp_path,
    )
    statuses = {r["status"] for r in _results(sweep)}
    assert statuses == {"completed", "diverged"}  # TPE's seeded start-up draws both rates
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert best["best_params"]["training.lr"] == 0.01
    completed = next(r for r in _results(sweep) if r["status"] == "completed")
    assert best["best_value"] == pytest.approx(completed["monitor"]["best"])  # val/ce: min
    assert (sweep / "summary.csv").exists()
