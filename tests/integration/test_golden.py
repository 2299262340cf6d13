"""Golden values: a seeded tiny copy run gives the same per-step training losses as the
seqlab that produced the committed experiment numbers (commit 500046c, before the configs
named their classes). A change to model construction order, initialisation, data order or
the optimizer shows here first."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import train

# train/ce of optimizer steps 1-5, measured with commit 500046c on the same overrides.
GOLDEN_TRAIN_CE = [
    2.214290142059326,
    2.047356128692627,
    1.9051083326339722,
    1.8064846992492676,
    1.7340495586395264,
]


def test_first_training_losses_are_pinned(tmp_path: Path):
    run_dir = tmp_path / "run"
    results = train(
        [
            "model=lstm",
            "task=copy",
            "seed=0",
            "trainer.max_epochs=1",
            "trainer.limit_train_batches=5",
            "trainer.limit_val_batches=1",
            "trainer.limit_test_batches=1",
            "task.n_train=320",
            "task.n_val=64",
            "task.n_test=64",
            "task.batch_size=64",
            "task.delay=5",
            "task.n_recall=3",
            "trainer.log_every_n_steps=1",
            "trainer.enable_progress_bar=false",
        ],
        run_dir,
    )
    rows = [r for r in csv.DictReader((run_dir / "metrics.csv").open()) if r.get("train/ce")]
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5]
    assert [float(r["train/ce"]) for r in rows] == pytest.approx(GOLDEN_TRAIN_CE, abs=1e-4)
    assert results["test/ce"] == pytest.approx(1.6661549806594849, abs=1e-4)
