"""Sweep figures beyond BLEU by length: a metric against a swept value (lines, heat-map, the
solved table), training scalars by step, gradient flow across runs; and sweeps that go on
past a diverged job."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from seqlab.cli.plot import main as plot_main
from seqlab.reporting.summary import SweepSummaryCallback, format_table, summary_rows
from seqlab.reporting.sweep_figures import (
    config_value,
    gradient_ratio,
    write_against,
    write_curves,
    write_gradient_flow,
)
from tests.conftest import run_sweep
from tests.unit.reporting.test_summarize import fake_run


def _delay_runs(root: Path) -> None:
    recall = {("lstm", 5): 1.0, ("lstm", 50): 0.99, ("lstm", 200): 0.2, ("vanilla", 5): 0.995}
    recall[("vanilla", 50)] = 0.13
    for (model, delay), acc in recall.items():
        fake_run(
            root / f"{model}_{delay}",
            model,
            0,
            acc,
            config={"task": {"delay": delay}, "training": {"tbptt_steps": None}},
        )


def test_metric_against_a_swept_value_lines_heatmap_and_solved_table(tmp_path: Path):
    _delay_runs(tmp_path)
    png, data = write_against([tmp_path], "task.delay", "test/recall_acc", tmp_path / "line")
    assert png.stat().st_size > 1000
    rows = list(csv.DictReader(data.open()))
    assert [(r["label"], r["task.delay"]) for r in rows][:3] == [
        ("lstm", "5"),
        ("lstm", "50"),
        ("lstm", "200"),
    ]
    write_against(
        [tmp_path], "task.delay", "test/recall_acc", tmp_path / "heat", heatmap=True, solved=0.99
    )
    table = (tmp_path / "heat_table.md").read_text()
    assert "| lstm | 10 | 5 | 50 |" in table and "| vanilla | 10 | 5 | 5 |" in table


def test_a_null_swept_value_is_shown_as_full_and_last(tmp_path: Path):
    for steps, acc in ((None, 1.0), (10, 0.4), (5, 0.1)):
        fake_run(
            tmp_path / f"w{steps}", "lstm", 0, acc, config={"training": {"tbptt_steps": steps}}
        )
    _, data = write_against([tmp_path], "training.tbptt_steps", "test/recall_acc", tmp_path / "t")
    assert [r["training.tbptt_steps"] for r in csv.DictReader(data.open())] == ["5", "10", "full"]
    assert config_value({"config": {"task": {"delay": 7}}}, "task.delay") == 7


def test_training_scalar_by_step_marks_the_diverged_run(tmp_path: Path):
    for name, values, status in (("calm", [1.0, 0.5, 0.4], None), ("wild", [1, 1e8], "diverged")):
        extra = {"status": status, "optimizer_steps": 2} if status else {}
        fake_run(tmp_path / name, "vanilla", 0, 0.1, **extra)
        rows = [{"step": i, "train/grad_norm": v} for i, v in enumerate(values)]
        rows.append({"step": len(values), "train/grad_norm": "nan"})
        with (tmp_path / name / "metrics.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["step", "train/grad_norm"])
            writer.writeheader()
            writer.writerows(rows)
    png = write_curves([tmp_path], "train/grad_norm", tmp_path / "grad")
    assert png is not None and png.stat().st_size > 1000
    assert write_curves([tmp_path], "train/none", tmp_path / "none") is None
    table = format_table(summary_rows(tmp_path))
    assert "status" in table and "diverged" in table


def test_gradient_flow_across_runs_keeps_each_runs_own_csv(tmp_path: Path):
    for model, factor in (("vanilla", 0.5), ("lstm", 0.9)):
        fake_run(tmp_path / model, model, 0, 0.1)
        lines = ["step,distance,grad_norm"]
        lines += [f"{step},{d},{factor**d}" for step in (0, 100) for d in range(60)]
        (tmp_path / model / "gradient_flow.csv").write_text("\n".join(lines) + "\n")
    own = (tmp_path / "lstm" / "gradient_flow.csv").read_text()
    write_gradient_flow([tmp_path / "lstm"], tmp_path / "lstm" / "gradient_flow")
    assert (tmp_path / "lstm" / "gradient_flow.csv").read_text() == own
    pngs, table = write_gradient_flow([tmp_path], tmp_path / "gradient_flow")
    rows = list(csv.DictReader(table.open()))
    assert [(r["label"], r["step"]) for r in rows] == [
        ("lstm", "0"),
        ("lstm", "100"),
        ("vanilla", "0"),
        ("vanilla", "100"),
    ]
    assert float(rows[2]["ratio_at_10"]) == pytest.approx(0.5**10, rel=1e-3)
    assert float(rows[0]["decay_per_step"]) == pytest.approx(0.9)
    assert len(pngs) == 2 and all(p.stat().st_size > 1000 for p in pngs)
    assert gradient_ratio([{"distance": 0, "grad_norm": 2.0}], 5) != gradient_ratio(
        [{"distance": 0, "grad_norm": 2.0}], 5
    )  # NaN: no row at that distance


def test_sweep_callback_draws_what_the_experiment_asks_for(tmp_path: Path, capsys):
    _delay_runs(tmp_path)
    callback = SweepSummaryCallback(
        curves=["train/grad_norm"],
        against=[{"key": "task.delay", "metric": "test/recall_acc", "heatmap": True}],
    )
    callback.on_multirun_end(_Config(tmp_path))
    out = capsys.readouterr().out
    assert "test/recall_acc by task.delay" in out
    assert (tmp_path / "test_recall_acc_by_delay.png").exists()


def test_plot_command_views(tmp_path: Path, capsys):
    _delay_runs(tmp_path)
    args = [str(tmp_path), "--against", "task.delay", "--metric", "test/recall_acc"]
    assert plot_main([*args, "--heatmap", "--solved", "0.99"]) == 0
    assert (tmp_path / "test_recall_acc_by_delay_table.csv").exists()
    assert plot_main([str(tmp_path), "--gradient-flow"]) == 1
    assert "nothing to draw" in capsys.readouterr().err
    assert plot_main([str(tmp_path), "--against", "task.delay"]) == 1


@pytest.mark.slow
def test_a_sweep_goes_on_past_a_diverged_job(tmp_path: Path):
    """`python -m seqlab.train -m` with one job that diverges: recorded, and the next runs."""
    sweep = tmp_path / "sweep"
    result = run_sweep(
        ["model=vanilla", "training.optimizer=sgd", "training.lr=1e37,0.01"], sweep, tmp_path
    )
    assert "recorded as diverged" in result.stderr and "Traceback" not in result.stderr
    rows = {r["run"]: r for r in csv.DictReader((sweep / "summary.csv").open())}
    assert sorted(r["status"] for r in rows.values()) == ["completed", "diverged"]


class _Config:
    """The part of Hydra's config the sweep callback reads."""

    def __init__(self, sweep_dir: Path) -> None:
        self.hydra = type("H", (), {"sweep": type("S", (), {"dir": str(sweep_dir)})()})()
