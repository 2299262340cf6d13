"""What a run dir holds and how it is read back: results.json, test_hypotheses.tsv, the
flattened hyperparameters that go to TensorBoard, and finding run dirs below a directory."""

from __future__ import annotations

import json
import math
import re
import statistics
from pathlib import Path
from typing import Any

RESULTS_FILE = "results.json"


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> {"a.b.c": value}; lists and None become strings (TensorBoard hparams
    accept only scalars and strings)."""
    if isinstance(tree, dict):
        flat: dict[str, Any] = {}
        for key, value in tree.items():
            flat.update(flatten(value, f"{prefix}{key}."))
        return flat
    key = prefix[:-1]
    if tree is None or isinstance(tree, list | tuple):
        return {key: str(tree)}
    return {key: tree}


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def write_results(run_dir: Path, results: dict[str, Any]) -> Path:
    """Write results.json atomically (a crash never leaves half a file)."""
    path = Path(run_dir) / RESULTS_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(_clean(results), indent=2, sort_keys=False) + "\n")
    tmp.replace(path)
    return path


def metric_mean_std(runs: list[dict[str, Any]], metric: str) -> tuple[float, float, int]:
    """Over the ``runs`` (results.json contents) that completed and hold a finite number for
    ``metric``: its mean, sample standard deviation (0 for a single run) and how many runs
    count; (nan, 0, 0) when none does."""
    values = [
        float(r[metric])
        for r in runs
        if r.get("status", "completed") == "completed"
        and isinstance(r.get(metric), int | float)
        and not isinstance(r.get(metric), bool)
        and math.isfinite(r[metric])
    ]
    if not values:
        return float("nan"), 0.0, 0
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return statistics.fmean(values), std, len(values)


def read_results(run_dir: Path) -> dict[str, Any]:
    return json.loads((Path(run_dir) / RESULTS_FILE).read_text())


def find_runs(directory: Path) -> list[Path]:
    """Run dirs (those holding results.json) at or below ``directory``, in natural order (a
    sweep's job 2 before its job 10)."""
    directory = Path(directory)
    if not directory.exists():
        raise FileNotFoundError(f"{directory} does not exist")
    return sorted((p.parent for p in directory.rglob(RESULTS_FILE)), key=_natural)


def _natural(path: Path) -> list[Any]:
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", str(path))]


def write_hypotheses(path: Path, rows: list[tuple[int, str, str, str]]) -> None:
    """index, source, reference, hypothesis per line (tab-separated, with a header)."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write("index\tsource\treference\thypothesis\n")
        for row in rows:
            handle.write("\t".join(str(v) for v in row) + "\n")


def model_label(results: dict[str, Any]) -> str:
    """The run's label if set, else the model name (with its window for the window model)."""
    config = results.get("config", {})
    if config.get("label"):
        return str(config["label"])
    model = config.get("model", {})
    if "window" in model:  # the fixed-window baseline
        return f"window-{model.get('window')}"
    return str(results.get("model", "model"))
