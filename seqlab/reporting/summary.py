"""Summarise the runs under a directory: ``python -m seqlab.summarize DIR [DIR ...]``.

Reads every results.json below the given directories (a sweep dir, a runs dir, single run
dirs) and prints one row per run with its test metrics; writes ``summary.csv`` into each
directory given. A Hydra callback calls the same code when a multirun ends.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from seqlab.reporting.plot import collect_curves, write_metric_bars, write_plot
from seqlab.reporting.results import (
    find_runs,
    find_unfinished_runs,
    lock_holder,
    metric_mean_std,
    model_label,
    read_results,
)

COLUMNS = (
    "run",
    "status",
    "model",
    "task",
    "seed",
    "parameters",
    "wall_time_s",
    "train_tokens_per_s",
)


def unfinished_record(run_dir: Path) -> dict[str, Any]:
    """What stands for results.json of a run that started and wrote none: ``running`` while
    a process owns its dir, else ``unfinished`` (killed, out of memory, a bug)."""
    holder = lock_holder(run_dir)
    config = started_config(run_dir)
    model = config.get("model") if isinstance(config.get("model"), dict) else {}
    known = {"config": config, "model": model.get("name"), "seed": config.get("seed")}
    if holder is not None:
        return {"status": "running", "error": f"still running (pid {holder})", **known}
    return {
        "status": "unfinished",
        "error": "stopped without writing results.json (killed, out of memory or a crash: "
        "see its log); resume it with resume=<run dir>",
        **known,
    }


def started_config(run_dir: Path) -> dict[str, Any]:
    """The config a run started with (seqlab's config.yaml, else Hydra's record of the job),
    as far as it can be read; {} when neither can."""
    for path in (run_dir / "config.yaml", run_dir / ".hydra" / "config.yaml"):
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(loaded, dict):
            return loaded
    return {}


def all_runs(directory: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every run at or below ``directory`` with its results (completed, diverged or failed),
    and those that started and wrote none (running or unfinished), in natural order."""
    runs = [(d, read_results(d)) for d in find_runs(directory)]
    runs += [(d, unfinished_record(d)) for d in find_unfinished_runs(directory)]
    return sorted(runs, key=lambda pair: [str(pair[0])])


def summary_rows(directory: Path) -> list[dict[str, Any]]:
    """One row per run (every run that started, so a failed job is never left out)."""
    rows = []
    for run_dir, results in all_runs(directory):
        row: dict[str, Any] = {"run": str(run_dir.relative_to(directory)) or "."}
        row.update({k: results.get(k) for k in COLUMNS[1:]})
        row["status"] = results.get("status", "completed")
        if row["status"] != "completed":
            row["error"] = results.get("error", "")
        row.update(
            {
                k: v
                for k, v in results.items()
                if k.startswith("test/") and isinstance(v, int | float)
            }
        )
        rows.append(row)
    return rows


def configuration_name(run: str, results: dict[str, Any]) -> str:
    """A run's configuration named by its sweep overrides without the seed (the job dir name
    ``<n>_<overrides>`` minus ``<n>_`` and ``seed=...``), else by its model label."""
    name = re.sub(r"^\d+_", "", Path(run).name) if run != "." else ""
    parts = [p for p in name.split(",") if p and not p.startswith("seed=")]
    return ",".join(parts) or model_label(results)


def seed_groups(directory: Path) -> dict[str, list[dict[str, Any]]]:
    """The runs below ``directory`` grouped by configuration: every config value but the
    seed equal (so ``-m model=vanilla,gru seed=1,2,3`` gives two groups of three)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    names: dict[str, str] = {}
    failed: list[tuple[str, dict[str, Any]]] = []
    for run_dir, results in all_runs(directory):
        run = str(run_dir.relative_to(directory)) or "."
        if results.get("status") in ("failed", "running", "unfinished"):
            failed.append((run, results))  # its config was never validated: grouped by name
            continue
        config = {k: v for k, v in results.get("config", {}).items() if k != "seed"}
        key = json.dumps(config, sort_keys=True, default=str)
        names.setdefault(key, configuration_name(run, results))
        groups.setdefault(key, []).append(results)
    by_name = {names[key]: members for key, members in groups.items()}
    for run, results in failed:
        by_name.setdefault(configuration_name(run, results), []).append(results)
    return by_name


def aggregate_rows(directory: Path) -> list[dict[str, Any]]:
    """One row per configuration: n, the seeds, and mean and std (sample, n - 1) of every
    numeric test metric over the seeds (diverged runs count in n_diverged, failed, running
    and unfinished ones in n_failed, none in the means)."""
    rows = []
    for name, members in seed_groups(directory).items():
        done = [r for r in members if r.get("status", "completed") == "completed"]
        diverged = sum(r.get("status") == "diverged" for r in members)
        row: dict[str, Any] = {
            "configuration": name,
            "n": len(done),
            "n_diverged": diverged,
            "n_failed": len(members) - len(done) - diverged,
            "seeds": " ".join(str(r.get("seed")) for r in members),
        }
        metrics = sorted(
            {k for r in done for k, v in r.items() if k.startswith("test/") and _number(v)}
        )
        for metric in metrics:
            mean, std, _ = metric_mean_std(done, metric)
            row[f"{metric}_mean"], row[f"{metric}_std"] = mean, std
        rows.append(row)
    return rows


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def write_aggregate(directory: Path) -> tuple[list[dict[str, Any]], Path] | None:
    """``summary_by_config.csv`` when some configuration ran with more than one seed."""
    rows = aggregate_rows(directory)
    if not any(r["n"] + r["n_diverged"] + r["n_failed"] > 1 for r in rows):
        return None
    return rows, _write_csv(
        Path(directory) / "summary_by_config.csv",
        ["configuration", "n", "n_diverged", "n_failed", "seeds"],
        rows,
    )


def _write_csv(path: Path, first: list[str], rows: list[dict[str, Any]]) -> Path:
    """``rows`` as CSV: the ``first`` columns, then every other key sorted."""
    fields = list(first) + sorted({k for r in rows for k in r if k not in first})
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _aligned(table: list[list[str]]) -> str:
    """Rows of cells as left-aligned columns."""
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) for line in table
    )


def format_aggregate(rows: list[dict[str, Any]]) -> str:
    """Mean ± std (n) per configuration and test metric."""
    metrics = sorted({k[: -len("_mean")] for r in rows for k in r if k.endswith("_mean")})
    table = [["configuration", "n", *metrics]]
    for r in rows:
        cells = [
            f"{r[m + '_mean']:.4f} ± {r[m + '_std']:.4f}" if m + "_mean" in r else ""
            for m in metrics
        ]
        lost = r["n_diverged"] + r.get("n_failed", 0)
        count = f"{r['n']} of {r['n'] + lost}" if lost else str(r["n"])
        table.append([r["configuration"], count, *cells])
    return _aligned(table)


def write_summary(directory: Path) -> tuple[list[dict[str, Any]], Path]:
    """Write ``summary.csv`` in ``directory`` and return the rows."""
    rows = summary_rows(directory)
    return rows, _write_csv(Path(directory) / "summary.csv", list(COLUMNS), rows)


def format_failures(rows: list[dict[str, Any]]) -> str:
    """The runs that did not complete, one line each with the reason; empty when none."""
    failed = [r for r in rows if r.get("status") not in ("completed", None)]
    if not failed:
        return ""
    lines = [f"{len(failed)} of {len(rows)} runs did not complete:"]
    lines += [f"  {r['run']}: {r['status']}: {r.get('error', '')}" for r in failed]
    return "\n".join(lines)


def format_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no runs: no results.json or config.yaml found)"
    fields = [f for f in ("run", "model", "task", "seed") if f in rows[0]]
    if any(r.get("status", "completed") != "completed" for r in rows):
        fields.insert(1, "status")
    fields += sorted({k for r in rows for k in r if k.startswith("test/")})

    def cell(value: Any) -> str:
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    return _aligned([fields] + [[cell(r.get(f, "")) for f in fields] for r in rows])


def plot_metrics(directory: Path) -> list[str]:
    """The test metrics the runs below ``directory`` name for bar charts (results.json's
    ``plot_metrics``, from each task's spec), sorted."""
    return sorted(
        {m for run in find_runs(directory) for m in read_results(run).get("plot_metrics", [])}
    )


class SweepSummaryCallback(Callback):
    """Hydra callback: print and save the sweep's summary when a multirun ends, with the
    figures its runs call for: BLEU by length (seq2seq runs), accuracy bars (tasks that name
    plot metrics), gradient flow (runs with diagnostics.gradient_flow), and what the
    experiment asks for under ``hydra.callbacks.sweep_summary``:

    curves: logged training scalars to draw against the step (e.g. [train/grad_norm]).
    against: [{key, metric, heatmap, solved}]: a test metric against a swept config key
    (seqlab.reporting.sweep_figures.write_against).
    """

    def __init__(
        self, curves: list[str] | None = None, against: list[dict[str, Any]] | None = None
    ) -> None:
        self.curves = list(curves or [])
        self.against = [dict(a) for a in against or []]

    failed_jobs = 0  # jobs of the last sweep that failed (python -m seqlab.train exits 1)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if sweep_dir.exists():
            rows, path = write_summary(sweep_dir)
            print(f"\nseqlab: sweep summary ({len(rows)} runs) -> {path}\n{format_table(rows)}")
            failures = format_failures(rows)
            if failures:
                print(f"\nseqlab: {failures}")
            SweepSummaryCallback.failed_jobs = sum(r["status"] == "failed" for r in rows)
            aggregate = write_aggregate(sweep_dir)
            if aggregate:
                print(
                    f"\nseqlab: mean ± std over seeds -> {aggregate[1]}\n"
                    f"{format_aggregate(aggregate[0])}"
                )
            for line in sweep_figures(sweep_dir, self.curves, self.against):
                print(f"seqlab: {line}")


def sweep_figures(sweep_dir: Path, curves: list[str], against: list[dict[str, Any]]) -> list[str]:
    """Write every figure the runs under ``sweep_dir`` call for; one line per figure."""
    from seqlab.reporting import sweep_figures as figures

    written = []
    bleu_curves = collect_curves([sweep_dir])
    if bleu_curves:
        png, _ = write_plot(bleu_curves, sweep_dir / "bleu_vs_length")
        written.append(f"BLEU by sentence length ({len(bleu_curves)} curves) -> {png}")
    focus = plot_metrics(sweep_dir)
    if focus:
        bars = write_metric_bars([sweep_dir], focus, sweep_dir / "metrics", "test accuracy")
        if bars:
            written.append(f"accuracies -> {bars[0]}")
    flow = figures.write_gradient_flow([sweep_dir], sweep_dir / "gradient_flow")
    if flow:
        written.append(f"gradient flow -> {', '.join(map(str, flow[0]))} and {flow[1]}")
    for metric in curves:
        png = figures.write_curves([sweep_dir], metric, sweep_dir / metric.replace("/", "_"))
        if png:
            written.append(f"{metric} by step -> {png}")
    for spec in against:
        key, metric = spec["key"], spec["metric"]
        name = f"{metric.replace('/', '_')}_by_{key.split('.')[-1]}"
        found = figures.write_against(
            [sweep_dir],
            key,
            metric,
            sweep_dir / name,
            heatmap=bool(spec.get("heatmap", False)),
            solved=spec.get("solved"),
        )
        if found:
            written.append(f"{metric} by {key} -> {found[0]}")
    return written
