"""Per-step scalars: every step written once, with its step number, to CSV and TensorBoard,
the same as writing each step as it comes."""

from __future__ import annotations

import csv
from pathlib import Path

import torch
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from seqlab.reporting.step_scalars import StepScalarBuffer


def tensorboard_scalars(log_dir: Path, tag: str) -> list[tuple[int, float]]:
    accumulator = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    accumulator.Reload()
    return [(event.step, event.value) for event in accumulator.Scalars(tag)]


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_buffer_writes_every_step_in_bursts(tmp_path: Path):
    tensorboard = TensorBoardLogger(tmp_path, name="tb", version="")
    csv_logger = CSVLogger(tmp_path, name="", version="")
    loggers = [tensorboard, csv_logger]
    buffer = StepScalarBuffer(flush_every=4)
    written_before_end = []
    for step in range(1, 12):
        buffer.add(step, {"train/grad_norm": float(step)})
        buffer.add(step, {"train/ce": 10.0 + step})  # same step: merged into one row
        if buffer.due():
            buffer.flush(loggers, keep_last=True)
            written_before_end.append(step)
        assert len(buffer) <= 5
    assert written_before_end == [5, 9]  # a burst once more than 4 steps wait
    buffer.flush(loggers)
    assert len(buffer) == 0
    tensorboard.experiment.flush()
    csv_logger.save()

    expected_norm = [(step, float(step)) for step in range(1, 12)]
    assert tensorboard_scalars(tmp_path / "tb", "train/grad_norm") == expected_norm
    assert tensorboard_scalars(tmp_path / "tb", "train/ce") == [
        (step, 10.0 + step) for step in range(1, 12)
    ]
    rows = csv_rows(tmp_path / "metrics.csv")
    assert [(int(r["step"]), float(r["train/grad_norm"])) for r in rows] == expected_norm
    assert [float(r["train/ce"]) for r in rows] == [10.0 + step for step in range(1, 12)]


def test_flush_of_an_empty_buffer_writes_nothing(tmp_path: Path):
    csv_logger = CSVLogger(tmp_path, name="", version="")
    StepScalarBuffer().flush([csv_logger])
    csv_logger.save()
    assert not (tmp_path / "metrics.csv").exists()


def _write(tmp_path: Path, name: str, burst: bool) -> tuple[Path, Path]:
    tensorboard = TensorBoardLogger(tmp_path, name=f"{name}_tb", version="")
    csv_logger = CSVLogger(tmp_path, name=f"{name}_csv", version="")
    buffer = StepScalarBuffer(flush_every=3)
    for step in range(1, 9):
        values = {"train/ce": 1.0 / step, "train/grad_norm": float(step) ** 0.5}
        if burst:
            buffer.add(step, values)
            if buffer.due():
                buffer.flush([tensorboard, csv_logger], keep_last=True)
        else:  # the plain path: Lightning's loggers, one call per step
            tensorboard.log_metrics(values, step=step)
            csv_logger.log_metrics(values, step=step)
    buffer.flush([tensorboard, csv_logger])
    tensorboard.experiment.flush()
    csv_logger.save()
    return tmp_path / f"{name}_tb", tmp_path / f"{name}_csv" / "metrics.csv"


def test_bursts_write_the_same_scalars_as_the_plain_path(tmp_path: Path):
    burst_tb, burst_csv = _write(tmp_path, "burst", burst=True)
    plain_tb, plain_csv = _write(tmp_path, "plain", burst=False)
    for tag in ("train/ce", "train/grad_norm"):
        assert tensorboard_scalars(burst_tb, tag) == tensorboard_scalars(plain_tb, tag)
        assert len(tensorboard_scalars(burst_tb, tag)) == 8
    assert csv_rows(burst_csv) == csv_rows(plain_csv)


def test_tensorboard_gets_one_event_per_step_at_its_recorded_time(tmp_path: Path):
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto.event_pb2 import Event

    tensorboard = TensorBoardLogger(tmp_path, name="tb", version="")
    buffer = StepScalarBuffer(flush_every=100)
    recorded = []
    for step in range(1, 6):
        buffer.add(step, {"train/ce": 1.0 / step, "train/grad_norm": torch.tensor(2.0)})
        recorded.append(buffer._rows[-1][1])
    buffer.flush([tensorboard])
    tensorboard.experiment.flush()
    (events_file,) = (tmp_path / "tb").glob("events.out.tfevents.*")
    records = RawEventFileLoader(str(events_file)).Load()
    events = [e for e in map(Event.FromString, records) if e.HasField("summary")]
    assert [e.step for e in events] == [1, 2, 3, 4, 5]
    assert [e.wall_time for e in events] == recorded
    assert [[v.tag for v in e.summary.value] for e in events] == [
        ["train/ce", "train/grad_norm"]
    ] * 5
    assert [v.simple_value for v in events[3].summary.value] == [0.25, 2.0]
