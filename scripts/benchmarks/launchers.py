"""The launchers section: a 4-job sweep through Hydra's basic launcher and the joblib launcher:
wall time and the speed-up."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from benchmarks.common import ratio_spread

LAUNCHER_SWEEP = [
    "-m",
    "model=vanilla,gru",
    "seed=1,2",
    "task=copy",
    "task.n_train=6400",
    "task.n_val=256",
    "task.n_test=256",
    "task.batch_size=64",
    "model.hidden_size=64",
    "trainer.max_steps=400",
    "callbacks.stop_when_solved=false",
    "trainer.enable_progress_bar=false",
]


def sweep_seconds(launcher: list[str], sweep_dir: Path) -> float:
    """Wall time of ``python -m seqlab.train`` running LAUNCHER_SWEEP's 4 jobs."""
    env = {**os.environ, "CI": "true"}
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "seqlab.train",
            *LAUNCHER_SWEEP,
            *launcher,
            f"hydra.sweep.dir={sweep_dir}",
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    return time.perf_counter() - started


def bench_launchers(args: argparse.Namespace) -> dict:
    """A 4-job sweep (vanilla and GRU x 2 seeds, 400 updates each): Hydra's basic launcher
    (one job at a time, torch on every core) against the joblib launcher with 2 jobs side by
    side (cores split between them, runtime.threads), interleaved rounds."""
    sides = {
        "basic": [],
        "joblib": ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
    }
    times: dict[str, list[float]] = {name: [] for name in sides}
    with TemporaryDirectory() as tmp:
        for round_ in range(max(args.repeats - 1, 1)):
            for name, launcher in sides.items():
                seconds = sweep_seconds(launcher, Path(tmp) / f"{name}_{round_}")
                times[name].append(seconds)
                print(f"  round {round_}: {name:<7} {seconds:6.1f} s", flush=True)
    spread = ratio_spread(times["joblib"], times["basic"], "basic/joblib sweep time")
    print(
        f"  4-job sweep: basic {statistics.median(times['basic']):.1f} s, joblib x2 "
        f"{statistics.median(times['joblib']):.1f} s; speed-up {spread['median']:.2f}x "
        f"[{spread['min']:.2f}-{spread['max']:.2f}, best-of-{spread['rounds']} "
        f"{spread['best_of_n']:.2f}]",
        flush=True,
    )
    return {"seconds": times, "speedup": spread}
