"""Where the GPU time goes: torch.profiler on three sides of one training step, hidden 512,
batch 256, length 100 (the gpu benchmark's shape): the plain loop around cuDNN, the smallest
manual-optimisation LightningModule, and seqlab's path (PerStepObjective in seqlab's Trainer
setup).

    python scripts/profile_gpu.py --out DIR [--cell lstm] [--steps 30]

Writes one file per side, DIR/<cell>_<side>.txt: wall time per step; host-device
synchronisations and copies per step (cudaStreamSynchronize, cudaMemcpy*,
cudaDeviceSynchronize; set-up included); kernel launches per step and the GPU's busy time per
step (when the loop's wall time per step is close to the busy time, the GPU bounds the step;
when it is well above, the host does: launching, Python, or waits); every place in Python
that made the host wait for the GPU (torch.cuda's sync debug mode), with how often in a run of
N steps and of 2N (a place whose count grows by N waits at every step, one whose count stays
waits once: set-up, epoch ends); and the top operators by self CPU time. Needs a CUDA GPU.
"""

from __future__ import annotations

import argparse
import collections
import re
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
LAUNCHES = ("cudaLaunchKernel", "cudaLaunchKernelExC", "cuLaunchKernel", "cuLaunchKernelEx")
# operators that copy between host and device or read a value back
WAITING_OPS = ("aten::copy_", "aten::_local_scalar_dense", "aten::nonzero")
TORCH_FRAME = re.compile(r"(^|/)torch/|^<built-in|^nn\.Module:")


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


def waits_by_stack(prof: profile) -> str:
    """The profile's copies, reads and synchronisations grouped by their Python stacks
    (torch's own frames left out), with the average host time of each: a long one waited."""
    rows = []
    for event in prof.key_averages(group_by_stack_n=15):
        if event.key in SYNCS + COPIES + WAITING_OPS:
            stack = " <- ".join(f for f in event.stack if not TORCH_FRAME.search(f))
            average = event.cpu_time_total / max(1, event.count)
            rows.append(f"{event.count:5d} x {event.key} ({average:.0f} us avg)  {stack}")
    return "\n".join(sorted(rows, reverse=True))


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
        with profile(
            activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA],
            with_stack=True,  # the stacks need the verbose config (pytorch/pytorch#100253)
            experimental_config=torch._C._profiler._ExperimentalConfig(verbose=True),
        ) as prof:
            side()
        events = prof.key_averages()
        counts = {e.key: e.count for e in events}
        syncs = {k: counts.get(k, 0) / args.steps for k in SYNCS}
        copies = {k: counts.get(k, 0) / args.steps for k in COPIES}
        launches = sum(counts.get(k, 0) for k in LAUNCHES) / args.steps
        gpu_busy_ms = sum(e.self_device_time_total for e in events) / 1000 / args.steps
        once = sync_sites(side)
        twice = sync_sites(sides(args.cell, data, batch, 2 * args.steps)[name])
        sites = [
            f"{(twice[site] - once[site]) / args.steps:5.2f}/step  {once[site]:4d} in "
            f"{args.steps} steps, {twice[site]:4d} in {2 * args.steps}  {site}"
            for site in sorted(twice | once, key=lambda s: once[s] - twice[s])
        ]
        lines = [
            f"{name}: {1000 * seconds / args.steps:.2f} ms/step in the loop "
            f"({wall:.2f} s with setup), cell {args.cell}",
            f"per step: syncs {syncs}, copies {copies}",
            f"per step under the profiler: {launches:.0f} kernel launches, GPU busy "
            f"{gpu_busy_ms:.2f} ms",
            "",
            "Where the host waited for the GPU (sync debug mode), per step; in runs of N, 2N:",
            *sites,
            "",
            events.table(sort_by="self_cpu_time_total", row_limit=40),
            "",
            "Host-device copies and waits by Python stack (a copy from pageable host memory",
            "waits for the stream too, without a cudaStreamSynchronize: a long average here):",
            waits_by_stack(prof),
        ]
        (args.out / f"{args.cell}_{name}.txt").write_text("\n".join(lines) + "\n")
        print("\n  ".join(lines[:3]), flush=True)
        print("  sync sites:\n    " + "\n    ".join(sites[:8]), flush=True)


if __name__ == "__main__":
    main()
