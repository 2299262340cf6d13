"""The overhead section: milliseconds per step of the training loop itself (a tiny model): the
plain loop, the smallest manual-optimisation LightningModule, and seqlab."""

from __future__ import annotations

import argparse
import statistics

from benchmarks.common import bare_lightning_path, copy_data, make_model, plain_loop, seqlab_path


def bench_overhead(args: argparse.Namespace) -> dict:
    """Per-step cost of the training loop itself: a model so small (hidden 8, 21 steps,
    batch 32) that its compute is ~1 ms, trained by the plain loop, by the bare Lightning
    module and by seqlab; the differences are milliseconds of loop per step."""
    data = copy_data(32 * 64, 1)
    steps = max(args.steps * 2, 60)
    times: dict[str, list[float]] = {"plain": [], "bare_lightning": [], "seqlab": []}
    paths = {"plain": plain_loop, "bare_lightning": bare_lightning_path, "seqlab": seqlab_path}
    seqlab_path(make_model("rnn", "fused", 8, 8), data, 32, 5)  # warm up
    for _ in range(args.repeats):
        for name, path in paths.items():
            times[name].append(path(make_model("rnn", "fused", 8, 8), data, 32, steps))
    ms = {name: 1e3 * statistics.median(v) / steps for name, v in times.items()}
    row = {
        "plain_ms_per_step": ms["plain"],
        "bare_lightning_ms_per_step": ms["bare_lightning"],
        "seqlab_ms_per_step": ms["seqlab"],
        "lightning_overhead_ms": ms["bare_lightning"] - ms["plain"],
        "seqlab_overhead_ms": ms["seqlab"] - ms["plain"],
    }
    print(
        f"  loop cost per step (tiny model): plain {ms['plain']:.3f} ms, bare Lightning "
        f"{ms['bare_lightning']:.3f} ms (+{row['lightning_overhead_ms']:.3f}), seqlab "
        f"{ms['seqlab']:.3f} ms (+{row['seqlab_overhead_ms']:.3f})",
        flush=True,
    )
    return row
