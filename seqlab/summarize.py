"""Summarise the runs under a directory: ``python -m seqlab.summarize DIR [DIR ...]``.

Reads every results.json below the given directories (a sweep dir, a runs dir, single run
dirs) and prints one row per run with its test metrics; writes ``summary.csv`` into each
directory given. A Hydra callback calls the same code when a multirun ends.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from seqlab.plot import collect_curves, write_metric_bars, write_plot
from seqlab.results import find_runs, read_results

COLUMNS = ("run", "model", "task", "seed", "parameters", "wall_time_s", "train_tokens_per_s")


def summary_rows(directory: Path) -> list[dict[str, Any]]:
    rows = []
    for run_dir in find_runs(directory):
        results = read_results(run_dir)
        row: dict[str, Any] = {"run": str(run_dir.relative_to(directory)) or "."}
        row.update({k: results.get(k) for k in COLUMNS[1:]})
        row.update(
            {
                k: v
                for k, v in results.items()
                if k.startswith("test/") and isinstance(v, int | float)
            }
        )
        rows.append(row)
    return rows


def write_summary(directory: Path) -> tuple[list[dict[str, Any]], Path]:
    """Write ``summary.csv`` in ``directory`` and return the rows."""
    rows = summary_rows(directory)
    fields = list(COLUMNS) + sorted({k for r in rows for k in r if k not in COLUMNS})
    path = Path(directory) / "summary.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return rows, path


def format_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no finished runs: no results.json found)"
    fields = [f for f in ("run", "model", "task", "seed") if f in rows[0]]
    fields += sorted({k for r in rows for k in r if k.startswith("test/")})

    def cell(value: Any) -> str:
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    table = [fields] + [[cell(r.get(f, "")) for f in fields] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(fields))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) for line in table
    )


def plot_metrics(directory: Path) -> list[str]:
    """The test metrics the runs below ``directory`` name for bar charts (results.json's
    ``plot_metrics``, from each task's spec), sorted."""
    return sorted(
        {m for run in find_runs(directory) for m in read_results(run).get("plot_metrics", [])}
    )


class SweepSummaryCallback(Callback):
    """Hydra callback: print and save the sweep's summary when a multirun ends."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if sweep_dir.exists():
            rows, path = write_summary(sweep_dir)
            print(f"\nseqlab: sweep summary ({len(rows)} runs) -> {path}\n{format_table(rows)}")
            curves = collect_curves([sweep_dir])
            if curves:
                png, _ = write_plot(curves, sweep_dir / "bleu_vs_length")
                print(f"seqlab: BLEU by sentence length ({len(curves)} curves) -> {png}")
            focus = plot_metrics(sweep_dir)
            if focus:
                written = write_metric_bars(
                    [sweep_dir], focus, sweep_dir / "metrics", "test accuracy"
                )
                if written:
                    print(f"seqlab: accuracies -> {written[0]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="sweep dirs, run dirs or parents")
    args = parser.parse_args(argv)
    for directory in args.dirs:
        try:
            rows, path = write_summary(directory)
        except FileNotFoundError as error:
            print(f"seqlab.summarize: {error}", file=sys.stderr)
            return 1
        print(f"{directory}: {len(rows)} runs -> {path}\n{format_table(rows)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
