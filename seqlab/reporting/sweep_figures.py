"""Figures and tables across the runs of a sweep, beyond BLEU by length and accuracy bars:

- ``write_curves``: a logged training scalar (e.g. ``train/grad_norm``) against the optimizer
  step, one line per run (from each run's metrics.csv);
- ``write_against``: a test metric against a swept config value (e.g. ``task.delay``,
  ``training.tbptt_steps``), one line per run label (mean ± std error bars where several
  seeds ran), or as a heat-map (labels × values) with a table of each label's parameters,
  training tokens/s and the largest value it solved;
- ``write_gradient_flow``: the runs' gradient_flow.csv (``diagnostics.gradient_flow``) at
  initialisation and after training, normalised, with a table of the ratio at chosen
  distances and the fitted per-step decay rate.

``python -m seqlab.plot`` and the sweep-summary callback (configured per experiment under
``hydra.callbacks.sweep_summary``) call them.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from omegaconf import OmegaConf

from seqlab.reporting.figures import gradient_flow_figure, heatmap_figure, line_figure
from seqlab.reporting.gradient_flow import CSV_NAME, decay_rate, read_gradient_flow
from seqlab.reporting.results import find_runs, metric_mean_std, model_label, read_results

FULL = "full"  # how a null swept value (e.g. tbptt_steps=null: full BPTT) is shown


def config_value(results: dict[str, Any], key: str) -> Any:
    """A dotted key's value in a run's saved config (``task.delay``)."""
    return OmegaConf.select(OmegaConf.create(results.get("config", {})), key)


def _runs(dirs: list[Path]) -> list[tuple[Path, dict[str, Any]]]:
    return [(run, read_results(run)) for d in dirs for run in find_runs(d)]


def _label(run: Path, results: dict[str, Any], taken: set[str]) -> str:
    label = model_label(results)
    if label in taken:
        label = f"{label} ({run.name})"
    taken.add(label)
    return label


def read_scalar(run_dir: Path, metric: str) -> list[tuple[float, float]]:
    """(step, value) of every metrics.csv row that holds ``metric``."""
    path = run_dir / "metrics.csv"
    if not path.exists():
        return []
    points = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            value = row.get(metric)
            if value not in (None, ""):
                points.append((float(row["step"]), float(value)))
    return points


def write_curves(dirs: list[Path], metric: str, out: Path, log_y: bool = True) -> Path | None:
    """``metric`` against the optimizer step, one line per run; a diverged run's line ends
    where it stopped (its last value may be inf or NaN, marked with an x)."""
    curves: dict[str, list[tuple[float, float]]] = {}
    taken: set[str] = set()
    for run, results in _runs(dirs):
        points = read_scalar(run, metric)
        if points:
            label = _label(run, results, taken)
            if results.get("status") == "diverged":
                label += f" (diverged at step {results.get('optimizer_steps')})"
            curves[label] = points
    if not curves:
        return None
    finite = {k: [(x, y) for x, y in v if math.isfinite(y)] for k, v in curves.items()}
    figure = line_figure(finite, "optimizer step", metric, f"{metric} by step", log_y=log_y)
    for i, (label, points) in enumerate(curves.items()):
        if points and not math.isfinite(points[-1][1]) and finite[label]:
            x, y = finite[label][-1]
            figure.axes[0].plot([x], [y], "x", color=f"C{i % 10}", markersize=10)
    png = out.with_suffix(".png")
    png.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(png, dpi=120)
    plt.close(figure)
    return png


def _order(values: list[Any]) -> list[Any]:
    """Numbers ascending, then null (shown as "full") last."""
    numbers = sorted({v for v in values if v is not None}, key=float)
    return numbers + ([None] if None in values else [])


def _show(value: Any) -> str:
    return FULL if value is None else str(value)


def write_against(
    dirs: list[Path],
    key: str,
    metric: str,
    out: Path,
    heatmap: bool = False,
    solved: float | None = None,
) -> tuple[Path, Path] | None:
    """``metric`` (a test metric) against the swept config ``key``: a line per run label, or
    a heat-map. Writes ``out``.png and ``out``.csv (label, key, metric, parameters,
    train_tokens_per_s, status); with ``solved`` also ``out``_table.csv / .md: per label the
    parameters, mean training tokens/s and the largest value whose metric reached ``solved``.
    """
    table: dict[str, dict[Any, list[dict[str, Any]]]] = {}
    for _, results in _runs(dirs):
        label = model_label(results)
        value = config_value(results, key)
        table.setdefault(label, {}).setdefault(value, []).append(results)
    if not table:
        return None
    columns = _order([v for row in table.values() for v in row])
    positions = {v: i for i, v in enumerate(columns)}
    categorical = None in columns

    def mean_std(runs: list[dict[str, Any]] | None) -> tuple[float, float]:
        """Over seeds: the mean and sample std of the metric (std 0 for one run)."""
        return metric_mean_std(runs or [], metric)[:2]

    png, data = out.with_suffix(".png"), out.with_suffix(".csv")
    png.parent.mkdir(parents=True, exist_ok=True)
    if heatmap:
        matrix = [[mean_std(table[label].get(v))[0] for v in columns] for label in table]
        figure = heatmap_figure(
            matrix, list(table), [_show(v) for v in columns], key, f"{metric} by {key}", metric
        )
    else:
        curves, errors = {}, {}
        for label, row in table.items():
            ordered = sorted(row.items(), key=lambda p: positions[p[0]])
            stats = [mean_std(runs) for _, runs in ordered]
            xs = [positions[v] if categorical else float(v) for v, _ in ordered]
            curves[label] = [(x, m) for x, (m, _) in zip(xs, stats, strict=True)]
            if any(len(runs) > 1 for _, runs in ordered):
                errors[label] = [sd for _, sd in stats]
        figure = line_figure(
            curves,
            key,
            metric,
            f"{metric} by {key}" + (" (mean ± std over seeds)" if errors else ""),
            categories=[_show(v) for v in columns] if categorical else None,
            errors=errors,
        )
    figure.savefig(png, dpi=120)
    plt.close(figure)
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["label", key, "n", metric, "std", "parameters", "train_tokens_per_s", "status"]
        )
        for label, row in table.items():
            for v in columns:
                for runs in [row[v]] if v in row else []:
                    mean, std = mean_std(runs)
                    first = runs[0]
                    statuses = sorted({r.get("status", "completed") for r in runs})
                    writer.writerow(
                        [
                            label,
                            _show(v),
                            len(runs),
                            mean,
                            std,
                            first.get("parameters"),
                            first.get("train_tokens_per_s"),
                            "/".join(statuses),
                        ]
                    )
    if solved is not None:
        write_solved_table(table, columns, key, metric, solved, out)
    return png, data


def write_solved_table(
    table: dict[str, dict[Any, list[dict[str, Any]]]],
    columns: list[Any],
    key: str,
    metric: str,
    threshold: float,
    out: Path,
) -> Path:
    """Per label: parameters, mean training tokens/s, and the largest ``key`` value whose
    ``metric`` reached ``threshold`` (markdown and CSV)."""
    lines = [
        f"| model | parameters | training tokens/s "
        f"| longest {key} solved ({metric} ≥ {threshold}) |",
        "|---|---|---|---|",
    ]
    rows = []
    for label, row in table.items():
        done = [v for v in columns if v in row and metric_mean_std(row[v], metric)[0] >= threshold]
        runs = [r for group in row.values() for r in group]
        speeds = [r["train_tokens_per_s"] for r in runs if r.get("train_tokens_per_s")]
        params = runs[0].get("parameters")
        longest = _show(done[-1]) if done else "none"
        speed = round(sum(speeds) / len(speeds)) if speeds else ""
        rows.append([label, params, speed, longest])
        lines.append(f"| {label} | {params:,} | {speed:,} | {longest} |")
    path = out.with_name(out.name + "_table.md")
    path.write_text("\n".join(lines) + "\n")
    with out.with_name(out.name + "_table.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "parameters", "train_tokens_per_s", f"longest_{key}_solved"])
        writer.writerows(rows)
    return path


def write_gradient_flow(
    dirs: list[Path], out: Path, distances: tuple[int, ...] = (10, 50), fit_up_to: int = 50
) -> tuple[list[Path], Path] | None:
    """Every run's gradient flow at its first and last recorded step, normalised at distance
    0: ``out``_init.png, ``out``_trained.png, and ``out``_summary.csv with per run and step
    the ratio ||dL/dh_{T-d}|| / ||dL/dh_T|| at each of ``distances`` and the per-step factor
    fitted over distances 1..``fit_up_to`` (seqlab.reporting.gradient_flow.decay_rate)."""
    flows: dict[str, dict[int, list[dict[str, float]]]] = {}
    taken: set[str] = set()
    for run, results in _runs(dirs):
        if (run / CSV_NAME).exists():
            flows[_label(run, results, taken)] = read_gradient_flow(run)
    if not flows:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    pngs = []
    for name, pick in (("init", min), ("trained", max)):
        curves = {label: steps[pick(steps)] for label, steps in flows.items()}
        steps = sorted({pick(s) for s in flows.values()})
        when = "at initialisation" if name == "init" else f"after training (step {steps[-1]})"
        figure = gradient_flow_figure(
            curves, f"||dL/dh_(T-d)|| / ||dL/dh_T|| {when}", normalise=True
        )
        png = out.with_name(f"{out.name}_{name}.png")
        figure.savefig(png, dpi=120)
        plt.close(figure)
        pngs.append(png)
    table = out.with_name(f"{out.name}_summary.csv")  # not gradient_flow.csv: a run's own file
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "step", *(f"ratio_at_{d}" for d in distances), "decay_per_step"])
        for label, steps in flows.items():
            for step in (min(steps), max(steps)):
                rows = steps[step]
                writer.writerow(
                    [
                        label,
                        step,
                        *(f"{gradient_ratio(rows, d):.3g}" for d in distances),
                        f"{decay_rate(rows, fit_up_to):.4g}",
                    ]
                )
    return pngs, table


def gradient_ratio(rows: list[dict[str, float]], distance: int) -> float:
    """||dL/dh_{T-distance}|| / ||dL/dh_T|| from gradient-flow rows."""
    by_distance = {int(r["distance"]): r["grad_norm"] for r in rows}
    base, value = by_distance.get(0), by_distance.get(distance)
    if not base or value is None:
        return float("nan")
    return value / base
