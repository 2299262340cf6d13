"""The ddp section: DDP on CPU: 2 processes (gloo) against 1 process on the same model and global
batch."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from tempfile import TemporaryDirectory

from benchmarks.common import ratio_spread

DDP_RUN = [
    "model=lstm",
    "task=copy",
    "task.n_train=25600",
    "task.n_val=256",
    "task.n_test=256",
    "task.delay=40",
    "model.hidden_size=256",
    "trainer.max_steps=150",
    "trainer.limit_val_batches=0",
    "callbacks.stop_when_solved=false",
    "trainer.enable_progress_bar=false",
]


def ddp_tokens_per_s(processes: int, global_batch: int, run_dir: Path) -> float:
    """Training tokens/s (results.json, all ranks) of ``python -m seqlab.train`` on DDP_RUN
    with ``processes`` processes sharing ``global_batch`` sequences per optimizer step."""
    env = {**os.environ, "CI": "true"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "seqlab.train",
            *DDP_RUN,
            f"trainer.devices={processes}",
            f"task.batch_size={global_batch // processes}",
            f"hydra.run.dir={run_dir}",
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    return json.loads((run_dir / "results.json").read_text())["train_tokens_per_s"]


def bench_ddp(args: argparse.Namespace) -> dict:
    """DDP on CPU: 2 processes (gloo, 1 thread each, batch 64 each) against 1 process (2
    threads, batch 128), the same model (LSTM, hidden 256, copy T = 60) and global batch,
    150 optimizer steps; training tokens/s of all ranks, interleaved rounds."""
    sides = {"one_process": 1, "two_processes": 2}
    rates: dict[str, list[float]] = {name: [] for name in sides}
    with TemporaryDirectory() as tmp:
        for round_ in range(max(args.repeats - 2, 1)):
            for name, n in sides.items():
                rate = ddp_tokens_per_s(n, 128, Path(tmp) / f"{name}_{round_}")
                rates[name].append(rate)
                print(f"  round {round_}: {name:<14} {rate:10,.0f} tok/s", flush=True)
    # ratio_spread takes times; a rate is an inverse time
    spread = ratio_spread(
        [1 / r for r in rates["two_processes"]],
        [1 / r for r in rates["one_process"]],
        "2-process/1-process throughput",
    )
    print(
        f"  DDP 2 processes / 1 process, same global batch: {spread['median']:.2f}x "
        f"[{spread['min']:.2f}-{spread['max']:.2f}, best-of-{spread['rounds']} "
        f"{spread['best_of_n']:.2f}]",
        flush=True,
    )
    return {"tokens_per_s": rates, "ratio": spread}
