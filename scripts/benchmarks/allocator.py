"""The allocator section: fused LSTM training in child processes with glibc's default malloc and
with seqlab's raised mmap/trim thresholds: tokens/s and peak memory."""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys

from benchmarks.common import SCRIPT
from benchmarks.peak import lstm_train_tokens_per_s


def allocator_child(threshold: int, hidden: int, steps: int) -> None:
    """Runs in a child process: apply the threshold, train, print JSON."""
    from seqlab.engine.runtime import set_malloc_thresholds

    if threshold:
        set_malloc_thresholds(threshold)
    tps = lstm_train_tokens_per_s(hidden, 32, 128, 120, steps)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tok_s": tps, "peak_rss_mb": peak}))


def bench_allocator(args: argparse.Namespace) -> list[dict]:
    rows = []
    for hidden in (128, 512):
        steps = args.steps if hidden == 128 else max(args.steps // 5, 5)
        results: dict[int, list[dict]] = {0: [], 1 << 30: []}
        for _ in range(args.repeats):
            for threshold in results:
                out = subprocess.run(
                    [
                        sys.executable,
                        str(SCRIPT),
                        "--allocator-child",
                        str(threshold),
                        "--hidden",
                        str(hidden),
                        "--steps",
                        str(steps),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                    env=os.environ.copy(),
                )
                results[threshold].append(json.loads(out.stdout.strip().splitlines()[-1]))
        default = statistics.median(r["tok_s"] for r in results[0])
        raised = statistics.median(r["tok_s"] for r in results[1 << 30])
        row = {
            "hidden": hidden,
            "default_tok_s": default,
            "raised_tok_s": raised,
            "speedup": raised / default,
            "default_peak_mb": max(r["peak_rss_mb"] for r in results[0]),
            "raised_peak_mb": max(r["peak_rss_mb"] for r in results[1 << 30]),
        }
        rows.append(row)
        print(
            f"  LSTM H={hidden} T=120 B=128: glibc default {default:,.0f} tok/s "
            f"(peak {row['default_peak_mb']:.0f} MB), thresholds 1 GiB {raised:,.0f} tok/s "
            f"(peak {row['raised_peak_mb']:.0f} MB): {row['speedup']:.2f}x",
            flush=True,
        )
    return rows
