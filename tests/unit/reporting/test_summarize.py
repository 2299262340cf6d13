"""Sweeps: every job in its own dir, a summary table + CSV, and the sweep's figures."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from seqlab.cli.summarize import main
from seqlab.reporting.plot import write_metric_bars
from seqlab.reporting.summary import (
    format_aggregate,
    format_table,
    plot_metrics,
    write_aggregate,
    write_summary,
)
from tests.conftest import run_cli, run_sweep


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


@pytest.mark.slow
def test_multirun_sweep_writes_one_dir_per_job_and_a_summary(tmp_path: Path):
    """The command line of a sweep, once: `python -m seqlab.train -m ...`."""
    sweep = tmp_path / "sweep"
    result = run_sweep(["model=vanilla,gru", "seed=1,2"], sweep, tmp_path, timeout=600)
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


def test_runs_that_differ_only_in_the_seed_are_aggregated(tmp_path: Path, capsys):
    """`-m model=vanilla,gru seed=1,2`: one row per model with n, mean and std."""
    recall = {("vanilla", 1): 0.1, ("vanilla", 2): 0.2, ("gru", 1): 0.9, ("gru", 2): 0.95}
    for job, ((model, seed), acc) in enumerate(recall.items()):
        config = {"seed": seed, "model": {"name": model}, "task": {"name": "copy"}}
        fake_run(tmp_path / f"{job}_model={model},seed={seed}", model, seed, acc, config=config)
    rows, path = write_aggregate(tmp_path)
    by_name = {r["configuration"]: r for r in rows}
    assert sorted(by_name) == ["model=gru", "model=vanilla"]
    assert by_name["model=vanilla"]["n"] == 2 and by_name["model=vanilla"]["seeds"] == "1 2"
    assert by_name["model=vanilla"]["test/recall_acc_mean"] == pytest.approx(0.15)
    assert by_name["model=vanilla"]["test/recall_acc_std"] == pytest.approx(0.0707107)
    assert next(iter(csv.DictReader(path.open())))["n"] == "2"
    assert "0.1500 ± 0.0707" in format_aggregate(rows)
    assert main([str(tmp_path)]) == 0 and "mean ± std over seeds" in capsys.readouterr().out
    bars = write_metric_bars([tmp_path], ["test/recall_acc"], tmp_path / "bars", "recall")
    table = list(csv.DictReader(bars[1].open()))
    assert len(table) == 2 and table[0]["n"] == "2"  # one bar per model, with its spread


def test_one_seed_per_configuration_writes_no_aggregate(tmp_path: Path):
    fake_run(tmp_path / "0_model=lstm", "lstm", 0, 0.5, config={"model": {"name": "lstm"}})
    fake_run(tmp_path / "1_model=gru", "gru", 0, 0.5, config={"model": {"name": "gru"}})
    assert write_aggregate(tmp_path) is None
