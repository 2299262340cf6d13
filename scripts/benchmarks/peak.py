"""The peak section: the oneDNN matmul peak (GFLOP/s) against fused LSTM training at hidden 512."""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from benchmarks.common import copy_data, make_model, plain_loop


def onednn_matmul_gflops(size: int = 1024, repeats: int = 20) -> tuple[float, float]:
    """Peak of a square float32 GEMM through oneDNN (mkldnn linear) and through torch.mm."""
    a = torch.randn(size, size)
    b = torch.randn(size, size)
    a_dnn, b_dnn = a.to_mkldnn(), b.to_mkldnn()

    def best(fn) -> float:
        fn()
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            timings.append(time.perf_counter() - start)
        return 2 * size**3 / min(timings) / 1e9

    onednn = best(lambda: torch._C._nn.mkldnn_linear(a_dnn, b_dnn))
    mkl = best(lambda: torch.mm(a, b))
    return onednn, mkl


def lstm_train_tokens_per_s(
    hidden: int, embedding: int, batch: int, length: int, steps: int
) -> float:
    model = make_model("lstm", "fused", hidden, embedding)
    data = copy_data(batch * 8, length - 20)
    plain_loop(model, data, batch, 3)
    seconds = plain_loop(model, data, batch, steps)
    return batch * length * steps / seconds


def lstm_layer_tokens_per_s(
    hidden: int, embedding: int, batch: int, length: int, steps: int
) -> float:
    """nn.LSTM alone: forward and backward (input and weight gradients), no optimizer."""
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(embedding, hidden, batch_first=True)
    x = torch.randn(batch, length, embedding, requires_grad=True)
    grad = torch.randn(batch, length, hidden)

    def step() -> None:
        out, _ = lstm(x)
        out.backward(grad)

    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * length * steps / (time.perf_counter() - start)


def bench_peak(args: argparse.Namespace) -> dict:
    """Fused LSTM training at hidden 512 against the oneDNN GEMM peak, at batch 128 and 256:
    the whole training step (embedding, LSTM, output layer, CE, Adam) and nn.LSTM alone."""
    onednn, mkl = onednn_matmul_gflops()
    hidden, embedding, length = 512, 128, 50
    steps = max(args.steps // 10, 5)
    # forward GEMMs 8H(E+H) FLOPs per token; backward twice that (input and weight grads)
    flops_per_token = 24 * hidden * (embedding + hidden)
    row: dict = {"onednn_gflops": onednn, "mkl_mm_gflops": mkl, "hidden": hidden, "by_batch": []}
    print(f"  oneDNN sgemm peak {onednn:,.0f} GFLOP/s (torch.mm/MKL {mkl:,.0f})", flush=True)
    for batch in (128, 256):
        step_tps, layer_tps = [], []
        for _ in range(args.repeats):
            step_tps.append(lstm_train_tokens_per_s(hidden, embedding, batch, length, steps))
            layer_tps.append(lstm_layer_tokens_per_s(hidden, embedding, batch, length, steps))
        entry = {"batch": batch}
        for name, values in (("training_step", step_tps), ("lstm_layer", layer_tps)):
            tps = statistics.median(values)
            gflops = tps * flops_per_token / 1e9
            entry[name] = {
                "tok_s": tps,
                "gflops": gflops,
                "fraction_of_onednn_peak": gflops / onednn,
            }
        row["by_batch"].append(entry)
        print(
            f"  fused LSTM H=512 E=128 T=50 batch {batch}: training step "
            f"{entry['training_step']['tok_s']:,.0f} tok/s = "
            f"{100 * entry['training_step']['fraction_of_onednn_peak']:.1f}% of the peak; "
            f"nn.LSTM forward+backward alone {entry['lstm_layer']['tok_s']:,.0f} tok/s = "
            f"{100 * entry['lstm_layer']['fraction_of_onednn_peak']:.1f}%",
            flush=True,
        )
    return row
