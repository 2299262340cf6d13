"""Draw BLEU against sentence length for runs: ``python -m seqlab.plot DIR [DIR ...]``.

Each DIR is a run dir or any directory above run dirs (a sweep dir). Every run whose
results.json holds ``test/bleu_by_length`` becomes one labelled curve (RNNenc-50,
RNNsearch-30, ... for seq2seq models on the translation task), with each bucket's 95%
bootstrap interval as an error bar. Writes a PNG and a CSV (label, lo, hi, n, bleu,
bleu_mean, bleu_ci95, unit; the interval is bleu_mean ± bleu_ci95) to ``--out`` (default: the
first DIR, as bleu_vs_length.*).

With ``--metric test/acc --metric test/acc_order_dependent`` it draws those test metrics
instead, as grouped bars per run (label: model on task), to ``metrics.png/.csv``.
Other views (seqlab/reporting/sweep_figures.py):
  --against task.delay --metric test/recall_acc [--heatmap] [--solved 0.99]
      the metric against a swept config value, lines per model (or a heat-map, and a table
      of the longest value solved);
  --curve train/grad_norm      a logged training scalar against the step, a line per run;
  --gradient-flow              the runs' gradient_flow.csv, at init and after training.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from seqlab.reporting.figures import bleu_length_figure, metric_bars
from seqlab.reporting.results import find_runs, metric_mean_std, model_label, read_results


def run_label(results: dict[str, Any]) -> str:
    """RNNenc-50 / RNNsearch-30 style: architecture and maximum training length."""
    config = results.get("config", {})
    if config.get("label"):
        return str(config["label"])
    model, task = config.get("model", {}), config.get("task", {})
    if "attention" in model:  # an encoder-decoder
        kind = str(model.get("attention")).lower()  # a bool in configs of older versions
        names = {"false": "RNNenc", "none": "RNNenc", "true": "RNNsearch", "additive": "RNNsearch"}
        feeding = "" if model.get("input_feeding", True) else "-noIF"
        name = names.get(kind) or f"Luong-{kind}{feeding}"
    else:
        name = results.get("model", "model")
    max_len = task.get("max_len") or (task.get("seq2seq") or {}).get("max_len")
    return f"{name}-{max_len}" if max_len else name


def collect_curves(dirs: list[Path]) -> dict[str, list[dict[str, Any]]]:
    curves: dict[str, list[dict[str, Any]]] = {}
    for directory in dirs:
        for run_dir in find_runs(directory):
            results = read_results(run_dir)
            buckets = results.get("test/bleu_by_length")
            if not buckets:
                continue
            label = run_label(results)
            if label in curves:  # same architecture twice (e.g. two seeds): keep both
                label = f"{label} ({run_dir.name})"
            curves[label] = buckets
    return dict(sorted(curves.items()))


def write_plot(
    curves: dict[str, list[dict[str, Any]]],
    out: Path,
    title: str = "BLEU by source sentence length",
) -> tuple[Path, Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    png, table = out.with_suffix(".png"), out.with_suffix(".csv")
    figure = bleu_length_figure(curves, title)
    figure.savefig(png, dpi=120)
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "lo", "hi", "n", "bleu", "bleu_mean", "bleu_ci95", "unit"])
        for label, buckets in curves.items():
            for b in buckets:
                extra = [b.get("bleu_mean"), b.get("bleu_ci95"), b.get("unit", "words")]
                writer.writerow([label, b["lo"], b["hi"], b["n"], b["bleu"], *extra])
    return png, table


def write_metric_bars(
    dirs: list[Path], metrics: list[str], out: Path, title: str
) -> tuple[Path, Path] | None:
    """Grouped bars of ``metrics`` per run label (model on task); runs that differ only in
    the seed share a bar: their mean, with a ±std error bar."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for directory in dirs:
        for run_dir in find_runs(directory):
            results = read_results(run_dir)
            if any(m in results for m in metrics):
                label = f"{model_label(results)} on {results.get('task')}"
                groups.setdefault(label, []).append(results)
    if not groups:
        return None
    rows, errors = [], []
    for label, runs in groups.items():
        stats = {m: metric_mean_std(runs, m) for m in metrics}
        rows.append((label, {m: mean for m, (mean, _, n) in stats.items() if n}))
        errors.append({m: std for m, (_, std, n) in stats.items() if n})
    several = any(len(runs) > 1 for runs in groups.values())
    out.parent.mkdir(parents=True, exist_ok=True)
    png, table = out.with_suffix(".png"), out.with_suffix(".csv")
    figure = metric_bars(rows, title + (" (mean ± std over seeds)" if several else ""), errors)
    figure.savefig(png, dpi=120)
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["run", *metrics] + (["n", *(f"{m}_std" for m in metrics)] if several else [])
        )
        for (label, values), spreads in zip(rows, errors, strict=True):
            line = [label, *(values.get(m, "") for m in metrics)]
            if several:
                line += [len(groups[label]), *(spreads.get(m, "") for m in metrics)]
            writer.writerow(line)
    return png, table
