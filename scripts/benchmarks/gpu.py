"""The gpu section: (skipped without a CUDA GPU) raw cuDNN against seqlab's model, path, bare
Lightning and explicit cells on the card, and against itself captured as a CUDA graph; float32
against 16-mixed and bf16-mixed."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from benchmarks.common import (
    bare_lightning_path,
    copy_data,
    make_model,
    plain_adam,
    ratio_spread,
    seqlab_path,
)

GPU_HIDDEN, GPU_EMBEDDING = 512, 128  # the H100 run's sizes (hidden 512, batch 256)


class CudnnTagger(torch.nn.Module):
    """The raw-cuDNN reference: nn.Embedding + nn.LSTM/GRU + nn.Linear, nothing of seqlab's."""

    def __init__(self, cell: str, hidden: int, embedding: int) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embedding = torch.nn.Embedding(10, embedding)
        rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
        self.rnn = rnn(embedding, hidden, batch_first=True)
        self.head = torch.nn.Linear(hidden, 9)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, None]:
        outputs, _ = self.rnn(self.embedding(tokens))
        return self.head(outputs), None


def gpu_loop(
    model: torch.nn.Module,
    data: dict[str, torch.Tensor],
    batch: int,
    steps: int,
    precision: str = "32-true",
) -> float:
    """The plain loop on the GPU: each batch copied from host memory (as a DataLoader's batch
    is), forward under the precision's autocast, CE, backward (scaled for 16-mixed), Adam.
    Returns seconds, synchronised."""
    device = torch.device("cuda")
    model.to(device)
    optimizer = plain_adam(model)
    dtype = {"16-mixed": torch.float16, "bf16-mixed": torch.bfloat16}.get(precision)
    scaler = torch.amp.GradScaler("cuda", enabled=precision == "16-mixed")
    inputs, targets = data["inputs"].pin_memory(), data["targets"].pin_memory()
    n = inputs.size(0)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for step in range(steps):
        lo = (step * batch) % n
        x = inputs[lo : lo + batch].to(device, non_blocking=True)
        y = targets[lo : lo + batch].to(device, non_blocking=True)
        with torch.autocast("cuda", dtype=dtype or torch.float32, enabled=dtype is not None):
            logits, _ = model(x)
            loss = F.cross_entropy(logits.flatten(0, 1).float(), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def graph_loop(
    model: torch.nn.Module, data: dict[str, torch.Tensor], batch: int, steps: int
) -> float:
    """The plain loop with its whole step (forward, CE, backward, Adam) captured once as a CUDA
    graph and replayed: each batch is copied from pinned host memory into the graph's input
    buffers, then one launch runs the step. No host work per kernel is left, so its time is
    the GPU's: the ceiling of any loop on this card. Returns seconds, synchronised."""
    device = torch.device("cuda")
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True, capturable=True)
    inputs, targets = data["inputs"].pin_memory(), data["targets"].pin_memory()
    x, y = inputs[:batch].to(device), targets[:batch].to(device)  # the graph's input buffers

    def step() -> None:
        logits, _ = model(x)
        F.cross_entropy(logits.flatten(0, 1), y.flatten()).backward()
        optimizer.step()

    side = torch.cuda.Stream()  # warm-up on a side stream, as capture requires
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            optimizer.zero_grad(set_to_none=True)
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    optimizer.zero_grad(set_to_none=True)  # the backward inside the graph allocates them
    with torch.cuda.graph(graph):
        step()
    n = inputs.size(0)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(steps):
        lo = (i * batch) % n
        x.copy_(inputs[lo : lo + batch], non_blocking=True)
        y.copy_(targets[lo : lo + batch], non_blocking=True)
        graph.replay()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def gpu_sides(
    cell: str, data: dict[str, torch.Tensor], batch: int, steps: int
) -> dict[str, Callable[[], float]]:
    """The sides of the gpu section for one cell, each a call returning seconds for ``steps``
    steps (the explicit cells run a fifth of the steps, scaled up: they are slow)."""
    hidden, embedding = GPU_HIDDEN, GPU_EMBEDDING
    return {
        "cudnn": lambda: gpu_loop(CudnnTagger(cell, hidden, embedding), data, batch, steps),
        "seqlab_fused": lambda: gpu_loop(
            make_model(cell, "fused", hidden, embedding), data, batch, steps
        ),
        "seqlab_path": lambda: seqlab_path(
            make_model(cell, "fused", hidden, embedding), data, batch, steps, "gpu"
        ),
        "bare_lightning": lambda: bare_lightning_path(
            make_model(cell, "fused", hidden, embedding), data, batch, steps, "gpu"
        ),
        "seqlab_explicit": lambda: (
            gpu_loop(
                make_model(cell, "explicit", hidden, embedding),
                data,
                batch,
                max(steps // 5, 10),
            )
            * 5
        ),
        "cudnn_graph": lambda: graph_loop(CudnnTagger(cell, hidden, embedding), data, batch, steps),
        "cudnn_16_mixed": lambda: gpu_loop(
            CudnnTagger(cell, hidden, embedding), data, batch, steps, "16-mixed"
        ),
        "cudnn_bf16_mixed": lambda: gpu_loop(
            CudnnTagger(cell, hidden, embedding), data, batch, steps, "bf16-mixed"
        ),
    }


def bench_gpu(args: argparse.Namespace) -> dict:
    """On the GPU, interleaved rounds at hidden 512, embedding 128, batch 256, length 100:
    raw cuDNN against seqlab's fused model (same loop), seqlab's whole path (Lightning,
    trainer=gpu, its logging), the smallest LightningModule (Lightning's own floor),
    seqlab's explicit cells and raw cuDNN as one CUDA graph a step (left out, with the
    error, where capture fails); and precisions for raw cuDNN."""
    if not torch.cuda.is_available():
        print("  skipped: PyTorch sees no CUDA GPU on this machine", flush=True)
        return {}
    card = torch.cuda.get_device_name()
    print(f"  card: {card}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
    batch, delay, hidden = 256, 80, GPU_HIDDEN
    data = copy_data(batch * 32, delay)
    tokens_per_step = batch * (delay + 20)
    steps = max(args.steps, 50)
    rows = []
    for cell in ("lstm", "gru"):
        sides = gpu_sides(cell, data, batch, steps)
        for name, side in list(sides.items()):  # warm up (cuDNN plans, Lightning imports)
            try:
                side()
            except RuntimeError as error:  # a side this card or build cannot run (a graph)
                print(f"  {cell:<5} {name:<17} failed, left out: {error}", flush=True)
                del sides[name]
        times: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(args.repeats):
            for name, side in sides.items():
                times[name].append(side())
        row: dict = {"cell": cell, "card": card, "hidden": hidden, "batch": batch}
        for name, seconds in times.items():
            row[f"{name}_tok_s"] = tokens_per_step * steps / statistics.median(seconds)
        for name in sides:
            if name == "cudnn":
                continue
            spread = ratio_spread(times["cudnn"], times[name], f"{cell} {name}/cudnn")
            row[f"{name}_over_cudnn"] = 1 / spread["median"]
            row[f"{name}_over_cudnn_range"] = [1 / spread["max"], 1 / spread["min"]]
        rows.append(row)
        for name in sides:
            ratio = (
                ""
                if name == "cudnn"
                else f"   /cuDNN {row[f'{name}_over_cudnn']:.3f} "
                f"[{row[f'{name}_over_cudnn_range'][0]:.3f}-"
                f"{row[f'{name}_over_cudnn_range'][1]:.3f}]"
            )
            print(f"  {cell:<5} {name:<17} {row[f'{name}_tok_s']:>12,.0f} tok/s{ratio}", flush=True)
    return {"card": card, "rows": rows}
