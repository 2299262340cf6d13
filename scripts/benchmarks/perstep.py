"""The perstep section: the same RecurrentTagger on the same copy data trained through seqlab's
path and a plain loop: tokens/s of each and the ratio, for vanilla/lstm/gru x fused/explicit."""

from __future__ import annotations

import argparse
import statistics

from benchmarks.common import (
    bare_lightning_path,
    copy_data,
    make_model,
    plain_loop,
    ratio_spread,
    seqlab_path,
)


def bench_perstep(args: argparse.Namespace) -> list[dict]:
    rows = []
    batch, delay = 128, 20
    data = copy_data(batch * 64, delay)
    tokens_per_step = batch * (delay + 20)
    for cell in ("rnn", "lstm", "gru"):
        for impl in ("fused", "explicit"):
            steps = args.steps if impl == "fused" else max(args.steps // 3, 10)
            # fused models also through the bare LightningModule: Lightning's own floor
            paths = {"seqlab": seqlab_path, "plain": plain_loop}
            if impl == "fused":
                paths["bare_lightning"] = bare_lightning_path
            times: dict[str, list[float]] = {name: [] for name in paths}
            seqlab_path(make_model(cell, impl, 128, 32), data, batch, 5)  # warm up
            for _ in range(args.repeats):
                for name, path in paths.items():
                    times[name].append(path(make_model(cell, impl, 128, 32), data, batch, steps))
            tps = {k: tokens_per_step * steps / statistics.median(v) for k, v in times.items()}
            spread = ratio_spread(times["seqlab"], times["plain"], f"{cell} {impl} seqlab/plain")
            row = {
                "cell": cell,
                "impl": impl,
                "hidden": 128,
                "seqlab_tok_s": tps["seqlab"],
                "plain_tok_s": tps["plain"],
                "ratio": spread["median"],
                "ratio_min": spread["min"],
                "ratio_max": spread["max"],
                "ratio_best_of_n": spread["best_of_n"],
            }
            bare = ""
            if "bare_lightning" in tps:
                row["bare_lightning_tok_s"] = tps["bare_lightning"]
                row["bare_lightning_ratio"] = tps["bare_lightning"] / tps["plain"]
                bare = f"   (bare Lightning / plain {row['bare_lightning_ratio']:.3f})"
            rows.append(row)
            print(
                f"  {cell:<5} {impl:<9} seqlab {row['seqlab_tok_s']:>10,.0f} tok/s   plain "
                f"{row['plain_tok_s']:>10,.0f} tok/s   ratio {row['ratio']:.3f} "
                f"[{row['ratio_min']:.3f}-{row['ratio_max']:.3f}, best-of-{args.repeats} "
                f"{row['ratio_best_of_n']:.3f}]{bare}",
                flush=True,
            )
    return rows
