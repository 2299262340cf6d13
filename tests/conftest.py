"""Shared test helpers: compose the real configs, run the real entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = str(ROOT / "configs")

# Small budgets for end-to-end runs: a few optimizer steps, tiny data.
TINY = [
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=2",
    "trainer.limit_test_batches=2",
]
TINY_COPY = [
    "task.n_train=96",
    "task.n_val=64",
    "task.n_test=64",
    "task.batch_size=32",
    "task.delay=5",
    "task.n_recall=3",
]


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(0)


def compose_config(overrides: list[str]) -> DictConfig:
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name="train", overrides=overrides)


def run_cli(
    args: list[str], cwd: Path, module: str = "seqlab.train", timeout: int = 300
) -> subprocess.CompletedProcess:
    """Run ``python -m <module> <args>`` in ``cwd`` as a user would (CI=true, 1 thread)."""
    env = {**os.environ, "CI": "true", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
