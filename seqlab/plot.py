"""Draw BLEU against sentence length for runs: ``python -m seqlab.plot DIR [DIR ...]``.

Each DIR is a run dir or any directory above run dirs (a sweep dir). Every run whose
results.json holds ``test/bleu_by_length`` becomes one labelled curve (RNNenc-50,
RNNsearch-30, ... for seq2seq models on the translation task). Writes a PNG and a CSV
(label, lo, hi, n, bleu) to ``--out`` (default: the first DIR, as bleu_vs_length.*).

With ``--metric test/acc --metric test/acc_order_dependent`` it draws those test metrics
instead, as grouped bars per run (label: model on task), to ``metrics.png/.csv``.
Other views (seqlab/sweep_figures.py):
  --against task.delay --metric test/recall_acc [--heatmap] [--solved 0.99]
      the metric against a swept config value, lines per model (or a heat-map, and a table
      of the longest value solved);
  --curve train/grad_norm      a logged training scalar against the step, a line per run;
  --gradient-flow              the runs' gradient_flow.csv, at init and after training.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

from seqlab.figures import bleu_length_figure, metric_bars
from seqlab.results import find_runs, metric_mean_std, read_results


def run_label(results: dict[str, Any]) -> str:
    """RNNenc-50 / RNNsearch-30 style: architecture and maximum training length."""
    config = results.get("config", {})
    if config.get("label"):
        return str(config["label"])
    model, task = config.get("model", {}), config.get("task", {})
    if "attention" in model:  # an encoder-decoder
        name = "RNNsearch" if model.get("attention") else "RNNenc"
    else:
        name = results.get("model", "model")
    max_len = task.get("max_len") or (task.get("seq2seq") or {}).get("max_len")
    return f"{name}-{max_len}" if max_len else name


def model_label(results: dict[str, Any]) -> str:
    """The run's label if set, else the model name (with its window for the window model)."""
    config = results.get("config", {})
    if config.get("label"):
        return str(config["label"])
    model = config.get("model", {})
    if "window" in model:  # the fixed-window baseline
        return f"window-{model.get('window')}"
    return str(results.get("model", "model"))


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
        writer.writerow(["label", "lo", "hi", "n", "bleu"])
        for label, buckets in curves.items():
            for b in buckets:
                writer.writerow([label, b["lo"], b["hi"], b["n"], b["bleu"]])
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="run dirs or sweep dirs")
    parser.add_argument("--out", type=Path, help="output path without suffix")
    parser.add_argument("--title", default=None)
    parser.add_argument(
        "--metric",
        action="append",
        default=[],
        help="draw these test metrics as bars instead of BLEU by length",
    )
    parser.add_argument("--against", help="a config key the runs vary (task.delay)")
    parser.add_argument("--heatmap", action="store_true", help="with --against: a heat-map")
    parser.add_argument("--solved", type=float, help="with --against: the solved threshold")
    parser.add_argument("--curve", action="append", default=[], help="a logged train scalar")
    parser.add_argument("--gradient-flow", action="store_true", help="gradient_flow.csv files")
    args = parser.parse_args(argv)
    try:
        if args.against or args.curve or args.gradient_flow:
            return other_views(args)
    except FileNotFoundError as error:
        print(f"seqlab.plot: {error}", file=sys.stderr)
        return 1
    if args.metric:
        try:
            written = write_metric_bars(
                args.dirs,
                args.metric,
                args.out or args.dirs[0] / "metrics",
                args.title or ", ".join(args.metric),
            )
        except FileNotFoundError as error:
            print(f"seqlab.plot: {error}", file=sys.stderr)
            return 1
        if written is None:
            print(
                f"seqlab.plot: no run under {', '.join(map(str, args.dirs))} has "
                f"{', '.join(args.metric)}",
                file=sys.stderr,
            )
            return 1
        print(f"seqlab.plot: -> {written[0]} and {written[1]}")
        return 0
    try:
        curves = collect_curves(args.dirs)
    except FileNotFoundError as error:
        print(f"seqlab.plot: {error}", file=sys.stderr)
        return 1
    if not curves:
        print(
            "seqlab.plot: no run with test/bleu_by_length under "
            f"{', '.join(map(str, args.dirs))} (train a seq2seq model first)",
            file=sys.stderr,
        )
        return 1
    png, table = write_plot(
        curves,
        args.out or args.dirs[0] / "bleu_vs_length",
        args.title or "BLEU by source sentence length",
    )
    print(f"seqlab.plot: {len(curves)} curves -> {png} and {table}")
    return 0


def other_views(args: argparse.Namespace) -> int:
    """--against, --curve and --gradient-flow (seqlab.sweep_figures)."""
    from seqlab import sweep_figures

    out_dir = args.dirs[0]
    written: list[str] = []
    if args.against:
        if len(args.metric) != 1:
            print("seqlab.plot: --against needs one --metric (test/...)", file=sys.stderr)
            return 1
        metric = args.metric[0]
        out = args.out or out_dir / f"{metric.replace('/', '_')}_by_{args.against.split('.')[-1]}"
        found = sweep_figures.write_against(
            args.dirs, args.against, metric, out, args.heatmap, args.solved
        )
        written += [str(p) for p in found or []]
    for metric in args.curve:
        png = sweep_figures.write_curves(args.dirs, metric, out_dir / metric.replace("/", "_"))
        written += [str(png)] if png else []
    if args.gradient_flow:
        flow = sweep_figures.write_gradient_flow(args.dirs, args.out or out_dir / "gradient_flow")
        written += [*map(str, flow[0]), str(flow[1])] if flow else []
    if not written:
        print(
            f"seqlab.plot: nothing to draw under {', '.join(map(str, args.dirs))} (no run with "
            "that metric, scalar or gradient_flow.csv)",
            file=sys.stderr,
        )
        return 1
    print(f"seqlab.plot: -> {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
