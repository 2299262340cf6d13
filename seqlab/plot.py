"""Draw BLEU against sentence length for runs: ``python -m seqlab.plot DIR [DIR ...]``.

Each DIR is a run dir or any directory above run dirs (a sweep dir). Every run whose
results.json holds ``test/bleu_by_length`` becomes one labelled curve (RNNenc-50,
RNNsearch-30, ... for seq2seq models on the translation task). Writes a PNG and a CSV
(label, lo, hi, n, bleu) to ``--out`` (default: the first DIR, as bleu_vs_length.*).

With ``--metric test/acc --metric test/acc_order_dependent`` it draws those test metrics
instead, as grouped bars per run (label: model on task), to ``metrics.png/.csv``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

from seqlab.figures import bleu_length_figure, metric_bars
from seqlab.results import find_runs, read_results


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
    rows = []
    for directory in dirs:
        for run_dir in find_runs(directory):
            results = read_results(run_dir)
            values = {m: float(results[m]) for m in metrics if m in results}
            if values:
                rows.append((f"{model_label(results)} on {results.get('task')}", values))
    if not rows:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    png, table = out.with_suffix(".png"), out.with_suffix(".csv")
    metric_bars(rows, title).savefig(png, dpi=120)
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["run", *metrics])
        for label, values in rows:
            writer.writerow([label, *(values.get(m, "") for m in metrics)])
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
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
