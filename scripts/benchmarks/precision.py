"""The precision section: the plain fused LSTM/GRU loop in float32 and under bfloat16 autocast
(bf16-mixed)."""

from __future__ import annotations

import argparse
import statistics

import torch

from benchmarks.common import RecurrentTagger, copy_data, make_model, plain_loop, ratio_spread


def bench_precision(args: argparse.Namespace) -> list[dict]:
    """The plain loop in float32 and under bfloat16 autocast (trainer.precision=bf16-mixed
    does the same around each training step), interleaved rounds."""
    rows = []
    batch, delay = 128, 20
    data = copy_data(batch * 32, delay)
    tokens = batch * (delay + 20) * args.steps

    def bf16_loop(model: RecurrentTagger) -> float:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return plain_loop(model, data, batch, args.steps)

    for cell in ("lstm", "gru"):
        times: dict[str, list[float]] = {"fp32": [], "bf16": []}
        plain_loop(make_model(cell, "fused", 128, 32), data, batch, 5)  # warm up
        for _ in range(args.repeats):
            times["fp32"].append(
                plain_loop(make_model(cell, "fused", 128, 32), data, batch, args.steps)
            )
            times["bf16"].append(bf16_loop(make_model(cell, "fused", 128, 32)))
        spread = ratio_spread(times["bf16"], times["fp32"], f"{cell} bf16/fp32 speed")
        row = {
            "cell": cell,
            "fp32_tok_s": tokens / statistics.median(times["fp32"]),
            "bf16_tok_s": tokens / statistics.median(times["bf16"]),
            "bf16_speed_ratio": spread["median"],
            "ratio_min": spread["min"],
            "ratio_max": spread["max"],
        }
        rows.append(row)
        print(
            f"  {cell:<5} fp32 {row['fp32_tok_s']:>10,.0f} tok/s   bf16-mixed "
            f"{row['bf16_tok_s']:>10,.0f} tok/s   bf16/fp32 speed {row['bf16_speed_ratio']:.3f} "
            f"[{row['ratio_min']:.3f}-{row['ratio_max']:.3f}]",
            flush=True,
        )
    return rows
