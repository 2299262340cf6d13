"""The overhead section: milliseconds per step of the training loop itself (a tiny model): the
plain loop, the smallest manual-optimisation LightningModule, and seqlab; and the cost of
writing a step's scalars to TensorBoard."""

from __future__ import annotations

import argparse
import statistics
import time
from tempfile import TemporaryDirectory

from benchmarks.common import (
    LOG_EVERY,
    bare_lightning_path,
    copy_data,
    make_model,
    plain_loop,
    seqlab_path,
)


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
    row["tensorboard_ms_per_step"] = bench_step_scalar_writes(args.repeats)
    return row


def bench_step_scalar_writes(repeats: int, steps: int = 3000) -> dict:
    """CPU milliseconds a step (every thread of the process, TensorBoard's writer thread
    included, its queue drained) to write three scalars a step to TensorBoard: through
    Lightning's ``TensorBoardLogger.log_metrics`` at every step (one event per scalar, what
    ``self.log`` leads to) and through seqlab's ``StepScalarBuffer`` (bursts of the logging
    interval, one event per step). CPU time rather than wall time: the writes are pure Python,
    and their cost is the interpreter time they take from the training loop."""
    from lightning.pytorch.loggers import TensorBoardLogger

    from seqlab.reporting.step_scalars import StepScalarBuffer

    values = {"train/ce": 1.5, "train/grad_norm": 2.5, "train/teacher_forcing": 1.0}

    def lightning_logger(logger: TensorBoardLogger) -> None:
        for step in range(steps):
            logger.log_metrics(values, step=step)

    def seqlab_buffer(logger: TensorBoardLogger) -> None:
        buffer = StepScalarBuffer(flush_every=LOG_EVERY)
        for step in range(steps):
            buffer.add(step, dict(values))
            if buffer.due():
                buffer.flush([logger], keep_last=True)
        buffer.flush([logger])

    ms: dict[str, list[float]] = {"lightning_log_metrics": [], "seqlab": []}
    for _ in range(repeats):
        for name, write in (("lightning_log_metrics", lightning_logger), ("seqlab", seqlab_buffer)):
            with TemporaryDirectory() as tmp:
                logger = TensorBoardLogger(tmp, name="tb", version="", default_hp_metric=False)
                start = time.process_time()
                write(logger)
                logger.experiment.close()  # waits for the writer thread to drain its queue
                ms[name].append(1e3 * (time.process_time() - start) / steps)
    row = {name: statistics.median(v) for name, v in ms.items()}
    row["range"] = {name: [min(v), max(v)] for name, v in ms.items()}
    print(
        f"  three scalars a step to TensorBoard, CPU ms/step: Lightning's log_metrics "
        f"{row['lightning_log_metrics']:.3f} [{min(ms['lightning_log_metrics']):.3f}-"
        f"{max(ms['lightning_log_metrics']):.3f}], seqlab's bursts {row['seqlab']:.3f} "
        f"[{min(ms['seqlab']):.3f}-{max(ms['seqlab']):.3f}]",
        flush=True,
    )
    return row
