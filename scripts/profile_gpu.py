"""Where the GPU time goes: torch.profiler on three sides of one training step, hidden 512,
batch 256, length 100 (the gpu benchmark's shape): the plain loop around cuDNN, the smallest
manual-optimisation LightningModule, and seqlab's path (PerStepObjective in seqlab's Trainer
setup).

    python scripts/profile_gpu.py --out DIR [--cell lstm] [--steps 30]

Writes, per side, DIR/<side>.txt: wall time per step, host-device synchronisations and
copies per step (cudaStreamSynchronize, cudaMemcpy*, cudaDeviceSynchronize), and the top
operators by self CPU time; and DIR/<side>_syncs.txt: every place in Python that made the
host wait for the GPU (torch.cuda's sync debug mode), with how often. Needs a CUDA GPU.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
import traceback
import warnings
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import bare_lightning_path, copy_data, make_model, seqlab_path
from benchmarks.gpu import GPU_EMBEDDING, GPU_HIDDEN, CudnnTagger, gpu_loop

SYNCS = ("cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaEventSynchronize")
COPIES = ("cudaMemcpyAsync", "cudaMemcpy")


def sides(cell: str, data: dict, batch: int, steps: int) -> dict:
    return {
        "cudnn_loop": lambda: gpu_loop(
            CudnnTagger(cell, GPU_HIDDEN, GPU_EMBEDDING), data, batch, steps
        ),
        "bare_lightning": lambda: bare_lightning_path(
            make_model(cell, "fused", GPU_HIDDEN, GPU_EMBEDDING), data, batch, steps, "gpu"
        ),
        "seqlab_path": lambda: seqlab_path(
            make_model(cell, "fused", GPU_HIDDEN, GPU_EMBEDDING), data, batch, steps, "gpu"
        ),
    }


def sync_sites(side) -> collections.Counter:  # type: ignore[no-untyped-def]
    """Run ``side`` with torch.cuda's sync debug mode on; count the Python stacks (the last
    frames outside torch's own files) at which the host waited for the GPU."""
    sites: collections.Counter = collections.Counter()
    previous = warnings.showwarning

    def record(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
        if "synchroniz" not in str(message):
            return previous(message, category, filename, lineno, file, line)
        frames = [f for f in traceback.extract_stack()[:-1] if "/torch/" not in f.filename]
        sites[
            " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames[-4:][::-1])
        ] += 1

    warnings.showwarning = record
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = record
            side()
    finally:
        torch.cuda.set_sync_debug_mode("default")
        warnings.showwarning = previous
    return sites


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    batch, delay = 256, 80
    data = copy_data(batch * 32, delay)
    print(f"card: {torch.cuda.get_device_name()}", flush=True)
    for name, side in sides(args.cell, data, batch, args.steps).items():
        side()  # warm up: cuDNN plans, imports
        started = time.perf_counter()
        seconds = side()
        wall = time.perf_counter() - started
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            side()
        events = prof.key_averages()
        counts = {e.key: e.count for e in events}
        syncs = {k: counts.get(k, 0) / args.steps for k in SYNCS}
        copies = {k: counts.get(k, 0) / args.steps for k in COPIES}
        lines = [
            f"{name}: {1000 * seconds / args.steps:.2f} ms/step in the loop "
            f"({wall:.2f} s with setup), cell {args.cell}",
            f"per step: syncs {syncs}, copies {copies}",
            "",
            events.table(sort_by="self_cpu_time_total", row_limit=40),
        ]
        (args.out / f"{name}.txt").write_text("\n".join(lines))
        print(lines[0] + "\n  " + lines[1], flush=True)
        sites = sync_sites(side)
        report = [f"{count:5d}  {site}" for site, count in sites.most_common()]
        (args.out / f"{name}_syncs.txt").write_text("\n".join(report) + "\n")
        print("  sync sites:\n    " + "\n    ".join(report[:8]), flush=True)


if __name__ == "__main__":
    main()
