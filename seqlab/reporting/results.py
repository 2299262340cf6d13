"""What a run dir holds and how it is read back: results.json, test_hypotheses.tsv, the
flattened hyperparameters that go to TensorBoard, and finding run dirs below a directory."""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import statistics
from pathlib import Path
from typing import Any

from seqlab.errors import DataFileError, SeqlabError

RESULTS_FILE = "results.json"
LOCK_FILE = ".seqlab.lock"  # held by the process that owns the run dir (seqlab.engine.run_dir)
held_run_dirs: dict[Path, int] = {}  # the run dirs this process owns -> their open lock files


def lock_holder(run_dir: Path) -> int | None:
    """The pid of the process that owns ``run_dir`` now (-1 if it cannot be read), or None
    when no process does."""
    resolved = Path(run_dir).resolve()
    if resolved in held_run_dirs:
        return os.getpid()
    try:
        descriptor = os.open(resolved / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None  # the lock was free
    except OSError:
        text = os.pread(descriptor, 32, 0).decode(errors="replace").strip()
        return int(text) if text.isdigit() else -1
    finally:
        os.close(descriptor)


def failure_record(config: dict[str, Any], error: BaseException) -> dict[str, Any]:
    """results.json of a run or sweep job that failed: the error and the config it had."""
    kind = error.kind if isinstance(error, SeqlabError) else type(error).__name__
    groups = {
        g: config.get(g) if isinstance(config.get(g), dict) else {} for g in ("model", "task")
    }
    return {
        "status": "failed",
        "error": f"{kind}: {error}",
        "model": groups["model"].get("name"),
        "task": groups["task"].get("name"),
        "seed": config.get("seed"),
        "config": config,
    }


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
    """A run's results.json; a file that is not a JSON object is a DataFileError naming it."""
    path = Path(run_dir) / RESULTS_FILE
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataFileError(
            f"{path} is damaged ({error}); seqlab writes it whole at the end of a run, so the "
            f"file was altered or cut. Move it away (the run's checkpoints are intact) and "
            f"run python -m seqlab.evaluate on its best checkpoint to rewrite the metrics"
        ) from None
    if not isinstance(results, dict):
        raise DataFileError(f"{path} is not a seqlab results file (not a JSON object)")
    return results


def find_runs(directory: Path) -> list[Path]:
    """Run dirs (those holding results.json) at or below ``directory``, in natural order (a
    sweep's job 2 before its job 10)."""
    directory = Path(directory)
    if not directory.exists():
        raise FileNotFoundError(f"{directory} does not exist")
    return sorted((p.parent for p in directory.rglob(RESULTS_FILE)), key=_natural)


def find_unfinished_runs(directory: Path) -> list[Path]:
    """Run dirs at or below ``directory`` that started (seqlab's config.yaml, or a sweep job's
    .hydra/config.yaml) but hold no results.json: still running, or stopped without a word
    (killed, out of memory)."""
    directory = Path(directory)
    started = {p.parent for p in directory.rglob("config.yaml") if ".hydra" not in p.parts}
    started |= {p.parent.parent for p in directory.rglob(".hydra/config.yaml")}
    return sorted((d for d in started if not (d / RESULTS_FILE).exists()), key=_natural)


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
