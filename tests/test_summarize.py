"""Sweeps: every job in its own dir, and a summary table + CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from seqlab.summarize import format_table, main, write_summary
from tests.conftest import TINY, TINY_COPY, run_cli


def _fake_run(path: Path, model: str, seed: int, acc: float) -> None:
    path.mkdir(parents=True)
    (path / "results.json").write_text(
        json.dumps(
            {
                "model": model,
                "task": "copy",
                "seed": seed,
                "parameters": 10,
                "wall_time_s": 1.0,
                "train_tokens_per_s": 5.0,
                "test/recall_acc": acc,
            }
        )
    )


def test_summary_reads_run_dirs(tmp_path: Path):
    _fake_run(tmp_path / "0_a", "lstm", 1, 0.5)
    _fake_run(tmp_path / "1_b", "gru", 2, 0.25)
    rows, path = write_summary(tmp_path)
    assert [r["model"] for r in rows] == ["lstm", "gru"]
    written = list(csv.DictReader(path.open()))
    assert written[1]["test/recall_acc"] == "0.25"
    assert "0.5000" in format_table(rows)
    assert main([str(tmp_path / "missing")]) == 1


def test_multirun_sweep_writes_one_dir_per_job_and_a_summary(tmp_path: Path):
    sweep = tmp_path / "sweep"
    result = run_cli(
        ["-m", "model=vanilla,gru", "seed=1,2", *TINY, *TINY_COPY, f"hydra.sweep.dir={sweep}"],
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = sorted(p.parent.name for p in sweep.rglob("results.json"))
    assert len(runs) == 4 and len(set(runs)) == 4
    rows = list(csv.DictReader((sweep / "summary.csv").open()))
    assert sorted((r["model"], r["seed"]) for r in rows) == [
        ("gru", "1"),
        ("gru", "2"),
        ("vanilla", "1"),
        ("vanilla", "2"),
    ]
    assert "sweep summary (4 runs)" in result.stdout


def test_plot_draws_metric_bars(tmp_path: Path):
    from seqlab.plot import main as plot_main

    _fake_run(tmp_path / "0_a", "lstm", 1, 0.5)
    _fake_run(tmp_path / "1_b", "gru", 2, 0.25)
    assert plot_main([str(tmp_path), "--metric", "test/recall_acc"]) == 0
    assert (tmp_path / "metrics.png").stat().st_size > 1000
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert rows[0] == {"run": "lstm on copy", "test/recall_acc": "0.5"}
    assert plot_main([str(tmp_path), "--metric", "test/nothing"]) == 1
