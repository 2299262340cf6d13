"""Sweeps: every job in its own dir, a summary table + CSV, and the sweep's figures."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from seqlab.summarize import format_table, main, plot_metrics, write_summary
from tests.conftest import TINY, TINY_TASK, run_cli


def fake_run(path: Path, model: str, seed: int, acc: float, **extra) -> None:
    path.mkdir(parents=True)
    results = {
        "model": model,
        "task": "copy",
        "seed": seed,
        "parameters": 10,
        "wall_time_s": 1.0,
        "train_tokens_per_s": 5.0,
        "test/recall_acc": acc,
        **extra,
    }
    (path / "results.json").write_text(json.dumps(results))


def test_summary_reads_run_dirs(tmp_path: Path, capsys):
    fake_run(tmp_path / "0_a", "lstm", 1, 0.5, plot_metrics=["test/acc", "test/recall_acc"])
    fake_run(tmp_path / "1_b", "gru", 2, 0.25)
    rows, path = write_summary(tmp_path)
    assert [r["model"] for r in rows] == ["lstm", "gru"]
    written = list(csv.DictReader(path.open()))
    assert written[1]["test/recall_acc"] == "0.25"
    assert "0.5000" in format_table(rows)
    assert plot_metrics(tmp_path) == ["test/acc", "test/recall_acc"]
    assert main([str(tmp_path)]) == 0 and "2 runs" in capsys.readouterr().out
    assert main([str(tmp_path / "missing")]) == 1


def test_multirun_sweep_writes_one_dir_per_job_and_a_summary(tmp_path: Path):
    """The command line of a sweep, once: `python -m seqlab.train -m ...`."""
    sweep = tmp_path / "sweep"
    result = run_cli(
        [
            "-m",
            "model=vanilla,gru",
            "seed=1,2",
            *TINY,
            *TINY_TASK["copy"],
            f"hydra.sweep.dir={sweep}",
        ],
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
    assert (sweep / "metrics.png").stat().st_size > 1000  # test/acc and test/recall_acc bars


def test_summarize_command_line(tmp_path: Path):
    fake_run(tmp_path / "0_a", "lstm", 1, 0.5)
    result = run_cli([str(tmp_path)], cwd=tmp_path, module="seqlab.summarize")
    assert result.returncode == 0 and "1 runs" in result.stdout
    assert (tmp_path / "summary.csv").exists()
