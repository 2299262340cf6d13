"""Per-step training scalars (loss, gradient norm, teacher-forcing ratio), written in bursts.

Every optimizer step's values are kept and written with their own step number (and, in
TensorBoard, their own wall time), but they reach the loggers in bursts of ``flush_every``
steps instead of one call per scalar per step: in TensorBoard one event per step (holding that
step's scalars), to every other logger through its ``log_metrics``. The result equals
writing each step as it comes (tests/unit/reporting/test_step_scalars.py compares the two);
only the timing of the writes changes.

A value may be a 0-d tensor still on the GPU (seqlab.objectives.base reads nothing back per
step there): :meth:`StepScalarBuffer.materialize` turns every such value into a float in one
transfer, when the buffer is written out, instead of one host-device synchronisation per
scalar per step.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from lightning.pytorch.loggers import Logger, TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only
from tensorboard.compat.proto.summary_pb2 import Summary


class StepScalarBuffer:
    """Collects ``{name: value}`` per optimizer step; :meth:`flush` writes them out."""

    def __init__(self, flush_every: int = 10) -> None:
        self.flush_every = max(1, flush_every)
        self._rows: list[tuple[int, float, dict[str, float]]] = []

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, step: int, values: dict[str, float | torch.Tensor]) -> None:
        """Record ``values`` at ``step``; merged into the last row when the step is the same."""
        if self._rows and self._rows[-1][0] == step:
            self._rows[-1][2].update(values)
        else:
            self._rows.append((step, time.time(), dict(values)))

    def due(self) -> bool:
        """True when a full batch of steps is waiting (the current step may still grow)."""
        return len(self._rows) > self.flush_every

    def materialize(self) -> list[tuple[int, dict[str, float]]]:
        """Every buffered value as a float (tensors read back together, one transfer per
        device); returns the rows as (step, values)."""
        pending = [
            (values, name)
            for _, _, values in self._rows
            for name, value in values.items()
            if isinstance(value, torch.Tensor)
        ]
        by_device: dict[torch.device, list[tuple[dict, str]]] = {}
        for values, name in pending:
            by_device.setdefault(values[name].device, []).append((values, name))
        for entries in by_device.values():
            read = torch.stack([v[n].detach().float().reshape(()) for v, n in entries]).tolist()
            for (values, name), number in zip(entries, read, strict=True):
                values[name] = number
        return [(step, values) for step, _, values in self._rows]

    def flush(self, loggers: list[Logger], keep_last: bool = False) -> None:
        """Write the buffered steps to every logger, oldest first. ``keep_last`` holds back the
        newest row, which may still receive values for its step."""
        if not self._rows:
            return
        self.materialize()
        rows = self._rows[:-1] if keep_last else self._rows
        self._rows = self._rows[-1:] if keep_last else []
        if rank_zero_only.rank != 0:  # loggers write from the first process only
            return
        for logger in loggers:
            if isinstance(logger, TensorBoardLogger):
                _write_tensorboard(logger, rows)
            else:
                for step, _, values in rows:
                    logger.log_metrics(values, step=step)


def _write_tensorboard(logger: TensorBoardLogger, rows: list[Any]) -> None:
    """Each step's scalars as one TensorBoard event, with the step and the wall time it was
    recorded at. The event holds one ``simple_value`` per name, the record
    ``SummaryWriter.add_scalar`` writes for a single name, so readers see the same scalars.

    One event a step instead of one per scalar: TensorBoard's writer serialises and
    checksums every event in Python (its CRC32C is pure Python without TensorFlow), partly
    in a background thread that takes the interpreter lock from the training loop. Measured
    on a 2-core CPU: 80-90 us a scalar through ``add_scalar``, which made three scalars a step
    the largest part of seqlab's own cost per step (docs/benchmarks.md, "The loop itself").
    """
    file_writer = logger.experiment._get_file_writer()  # the writer add_scalar itself uses
    for step, wall_time, values in rows:
        summary = Summary(
            value=[Summary.Value(tag=name, simple_value=value) for name, value in values.items()]
        )
        file_writer.add_summary(summary, global_step=step, walltime=wall_time)
