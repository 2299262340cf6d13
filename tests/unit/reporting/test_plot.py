"""Figures from run dirs: BLEU against sentence length, metric bars."""

from __future__ import annotations

import csv
from pathlib import Path

from seqlab.cli.plot import main
from seqlab.reporting.figures import interval_offsets
from seqlab.reporting.plot import collect_curves, run_label, write_plot
from seqlab.reporting.results import model_label
from tests.conftest import run_cli
from tests.unit.reporting.test_summarize import fake_run

BUCKETS = [{"lo": 1, "hi": 10, "n": 5, "bleu": 90.0}, {"lo": 11, "hi": 20, "n": 4, "bleu": 40.0}]


def test_labels_follow_bahdanau_and_the_window():
    enc = {"config": {"model": {"attention": False}, "task": {"max_len": 30}}}
    search = {"config": {"model": {"attention": True}, "task": {"max_len": 50}}}
    assert run_label(enc) == "RNNenc-30" and run_label(search) == "RNNsearch-50"
    assert run_label({"config": {"label": "mine"}}) == "mine"
    window = {"model": "window", "config": {"model": {"window": 5}}}
    assert model_label(window) == "window-5" and model_label({"model": "lstm"}) == "lstm"


def test_plot_draws_metric_bars(tmp_path: Path):
    fake_run(tmp_path / "0_a", "lstm", 1, 0.5)
    fake_run(tmp_path / "1_b", "gru", 2, 0.25)
    assert main([str(tmp_path), "--metric", "test/recall_acc"]) == 0
    assert (tmp_path / "metrics.png").stat().st_size > 1000
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert rows[0] == {"run": "lstm on copy", "test/recall_acc": "0.5"}
    assert main([str(tmp_path), "--metric", "test/nothing"]) == 1


def test_plot_command_line_draws_bleu_by_length(tmp_path: Path):
    config = {"model": {"attention": True}, "task": {"max_len": 50}}
    fake_run(
        tmp_path / "run",
        "seq2seq_attention",
        0,
        0.5,
        config=config,
        **{"test/bleu_by_length": BUCKETS},
    )
    assert list(collect_curves([tmp_path])) == ["RNNsearch-50"]
    result = run_cli(
        [str(tmp_path), "--out", str(tmp_path / "fig")], cwd=tmp_path, module="seqlab.plot"
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "fig.png").stat().st_size > 1000
    assert next(csv.DictReader((tmp_path / "fig.csv").open()))["label"] == "RNNsearch-50"
    assert main([str(tmp_path / "none")]) == 1


def test_bucket_intervals_become_error_bars_and_csv_columns(tmp_path: Path):
    with_ci = [
        {**BUCKETS[0], "bleu_mean": 89.0, "bleu_ci95": 3.0},
        {**BUCKETS[1], "bleu_mean": None, "bleu_ci95": None},  # a bucket without one
    ]
    # the interval 86..92 is centred on the bootstrap mean, not on the score of 90
    assert interval_offsets(with_ci[:1]) == [[4.0], [2.0]]
    png, table = write_plot({"RNNsearch-50": with_ci, "old run": BUCKETS}, tmp_path / "fig")
    assert png.stat().st_size > 1000
    rows = list(csv.DictReader(table.open()))
    assert (rows[0]["bleu_mean"], rows[0]["bleu_ci95"]) == ("89.0", "3.0")
    assert rows[1]["bleu_ci95"] == "" and rows[2]["bleu_ci95"] == ""
