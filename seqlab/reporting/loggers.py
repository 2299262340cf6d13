"""A run's loggers: TensorBoard events and metrics.csv, both in the run dir, both continued
(not restarted) when the run is resumed."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import Logger, TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only
from torch import Tensor


class RunCSVLogger(Logger):
    """``metrics.csv``: one row per logging call (``step`` and the metrics), columns sorted,
    the header growing as new metrics appear; the format of Lightning's CSVLogger. Unlike
    that logger, which starts the file anew, it continues an existing file: a resumed run keeps
    the first ``keep_rows`` rows (those written up to its checkpoint) and appends."""

    def __init__(self, run_dir: Path, keep_rows: int | None = None) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / "metrics.csv"
        self.fields: list[str] = []
        self.rows_written = 0
        self._pending: list[dict[str, Any]] = []
        if keep_rows is not None and self.path.exists():
            with self.path.open(newline="") as handle:
                reader = csv.DictReader(handle)
                self.fields = list(reader.fieldnames or [])
                rows = [row for _, row in zip(range(keep_rows), reader, strict=False)]
            self._write(rows, mode="w")
            self.rows_written = len(rows)

    @property
    def name(self) -> str:
        return ""

    @property
    def version(self) -> str:
        return ""

    @property
    def save_dir(self) -> str:
        return str(self.run_dir)

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        row = {k: v.item() if isinstance(v, Tensor) else v for k, v in metrics.items()}
        row["step"] = self.rows_written + len(self._pending) if step is None else step
        self._pending.append(row)

    @rank_zero_only
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        """Nothing: the run dir's config.yaml holds the whole config."""

    @rank_zero_only
    def save(self) -> None:
        if not self._pending:
            return
        new = set().union(*self._pending) - set(self.fields)
        if new:
            self.fields = sorted([*self.fields, *new])
            if self.path.exists():  # a wider header: rewrite what is there
                with self.path.open(newline="") as handle:
                    self._write(list(csv.DictReader(handle)), mode="w")
        if not self.path.exists():
            self._write([], mode="w")
        self._write(self._pending, mode="a", header=False)
        self.rows_written += len(self._pending)
        self._pending = []

    @rank_zero_only
    def finalize(self, status: str) -> None:
        self.save()

    def _write(self, rows: list[dict[str, Any]], mode: str, header: bool = True) -> None:
        with self.path.open(mode, newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.fields)
            if header:
                writer.writeheader()
            writer.writerows(rows)


def build_loggers(
    run_dir: Path, resume_step: int | None = None, csv_rows: int | None = None
) -> tuple[TensorBoardLogger, RunCSVLogger]:
    """TensorBoard (``run_dir/tensorboard``) and CSV loggers. Resuming from optimizer step S,
    TensorBoard hides whatever the stopped process wrote after S (``purge_step``) and the CSV
    keeps its first ``csv_rows`` rows."""
    purge = {} if resume_step is None else {"purge_step": resume_step + 1}
    tensorboard = TensorBoardLogger(
        save_dir=run_dir, name="tensorboard", version="", default_hp_metric=False, **purge
    )
    return tensorboard, RunCSVLogger(run_dir, keep_rows=csv_rows)
