"""The chapter's training-dynamics findings, each pinned by a run of its experiment through
the command line (seed 0; budgets as stated per test, reduced from the full experiment where
the headline shows at once). Slow: run with ``pytest -m slow``. The full runs and their
numbers: experiments/<name>/README.md."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.slow


def sweep(tmp_path: Path, experiment: str, *overrides: str) -> dict[str, dict[str, str]]:
    """Run ``experiment=NAME`` with ``overrides``; its summary rows by run label."""
    out = tmp_path / experiment
    result = run_cli(
        [f"experiment={experiment}", *overrides, f"hydra.sweep.dir={out}"],
        cwd=tmp_path,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {}
    for row in csv.DictReader((out / "summary.csv").open()):
        config = (out / row["run"] / ".hydra" / "overrides.yaml").read_text()
        rows[row["run"]] = {**row, "overrides": config}
    return rows


def by(rows: dict[str, dict[str, str]], fragment: str) -> dict[str, str]:
    """The one row whose job dir name contains ``fragment``."""
    (row,) = [r for name, r in rows.items() if fragment in name]
    return row


def test_vanishing_at_initialisation(tmp_path: Path):
    """13.4: at distance 50 at initialisation (one update; delay 100, hidden 64, seed 0)."""
    sweep(tmp_path, "vanishing", "trainer.max_steps=1")
    ratio = {}
    for row in csv.DictReader((tmp_path / "vanishing" / "gradient_flow_summary.csv").open()):
        if row["step"] == "0":
            ratio[row["label"]] = (
                float(row["ratio_at_10"]),
                float(row["ratio_at_50"]),
                float(row["decay_per_step"]),
            )
    assert ratio["tanh"][1] * 1e4 <= ratio["lstm-fb1"][1]
    assert ratio["lstm-fb1"][1] >= 1e3 * ratio["lstm-fb0"][1]
    for gain in ("1.5", "3.0"):  # exploding: the ratio grows with distance
        r10, r50, factor = ratio[f"tanh-orth-{gain}"]
        assert r50 > 1 and r10 < r50 and factor > 1
    assert min(ratio, key=lambda label: ratio[label][2]) == "tanh-orth-0.5"


def test_clipping_tames_explosion_but_not_vanishing(tmp_path: Path):
    """13.4: the whole exploding experiment (4 jobs, about a minute)."""
    rows = sweep(tmp_path, "exploding")
    baseline = float(by(rows, "explode_noclip")["test/baseline_ce"])
    assert float(by(rows, "explode_noclip")["test/ce"]) > 3 * baseline
    assert float(by(rows, "explode_clip")["test/ce"]) < 1.02 * baseline
    tanh, lstm = by(rows, "tanh_clip"), by(rows, "lstm_clip")
    assert float(tanh["test/ce"]) > 0.98 * baseline and float(tanh["test/recall_acc"]) < 0.2
    assert float(lstm["test/recall_acc"]) > 0.9


def test_truncation_that_cuts_every_dependency_blocks_learning(tmp_path: Path):
    """13.4 truncated BPTT (seed 0, the experiment's budget): with window 18 every symbol's
    recall falls in a later chunk than its reading (D = 18), and recall stays at chance; full
    BPTT learns the task."""
    rows = sweep(tmp_path, "tbptt", "training.tbptt_steps=18,null", "seed=0")
    assert float(by(rows, "tbptt_steps=18")["test/recall_acc"]) < 0.2
    assert float(by(rows, "tbptt_steps=null")["test/recall_acc"]) > 0.95


def test_gated_cells_remember_further_than_the_tanh_rnn(tmp_path: Path):
    """13.5: delay 20 (the memory experiment's budget): GRU solves it, the tanh RNN is at
    chance."""
    rows = sweep(tmp_path, "memory", "+memory=tanh,gru", "task.delay=20")
    assert float(by(rows, "memory=gru")["test/recall_acc"]) > 0.95
    assert float(by(rows, "memory=tanh")["test/recall_acc"]) < 0.2


def test_teacher_forcing_leaves_an_exposure_bias(tmp_path: Path):
    """13.7: teacher forcing against always sampling (the experiment's budget): the
    teacher-forced model is much better when fed the truth than on its own outputs; the
    always-sampling one has a much smaller gap."""
    rows = sweep(tmp_path, "exposure_bias", "+exposure_bias=teacher_forcing,no_teacher_forcing")
    forced, sampled = by(rows, "=teacher_forcing"), by(rows, "no_teacher_forcing")
    assert float(forced["test/exposure_bias"]) > 0.15
    assert float(sampled["test/exposure_bias"]) < 0.5 * float(forced["test/exposure_bias"])
