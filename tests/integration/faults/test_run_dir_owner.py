"""A run dir has one owner: a second run or a resume of a run still training is refused at
once, a dir that holds a run is refused before Hydra writes into it, and a sweep dir that
holds a sweep likewise."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from seqlab.reporting.results import LOCK_FILE
from tests.conftest import TINY, TINY_TASK
from tests.integration.faults.conftest import Fault

COPY = ["model=lstm", "task=copy", "model.hidden_size=16", *TINY, *TINY_TASK["copy"]]


@contextmanager
def held_by_another(run_dir: Path, pid: int = 424242) -> Iterator[None]:
    """The lock as another process holds it (flock locks belong to an open file, so a
    second open file in this process conflicts as another process would)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"{pid}\n".encode())
    try:
        yield
    finally:
        os.close(descriptor)


def test_a_finished_run_dir_is_refused_before_hydra_writes(fault: Fault, finished_run: Path):
    outcome = fault.refused(
        "train", [*COPY, f"hydra.run.dir={finished_run}"], "already holds a run"
    )
    assert "never overwrites" in outcome.err


def test_a_started_run_dir_without_results_is_refused(fault: Fault):
    run_dir = fault.root / "crashed"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text("seed: 0\n")
    fault.refused("train", [*COPY, f"hydra.run.dir={run_dir}"], "config.yaml exists")


def test_resuming_a_run_that_is_still_training_is_refused(fault: Fault, finished_run: Path):
    fault.remember()
    with held_by_another(finished_run):
        fault.refused(
            "train",
            [f"resume={finished_run}", "trainer.max_epochs=2"],
            "is in use by another seqlab process (pid 424242)",
        )


def test_a_new_run_into_a_dir_another_process_owns_is_refused(fault: Fault):
    run_dir = fault.root / "taken"
    with held_by_another(run_dir):
        fault.remember()
        fault.refused("train", [*COPY, f"hydra.run.dir={run_dir}"], "in use by another seqlab")
    assert not (run_dir / ".hydra").exists()


def test_a_run_dir_below_a_file_is_refused(fault: Fault):
    (fault.root / "afile").write_text("not a directory")
    fault.refused("train", [*COPY, "hydra.run.dir=afile/run"], "afile is a file, not a directory")


def test_resuming_a_directory_that_does_not_exist_creates_nothing(fault: Fault):
    fault.refused("train", ["resume=nowhere"], "resume=nowhere: no such directory")
    assert not (fault.root / "nowhere").exists()


def test_resuming_a_directory_that_holds_no_run_leaves_it_as_it_was(fault: Fault):
    (fault.root / "empty").mkdir()
    fault.refused("train", ["resume=empty"], "not a seqlab run dir (no config.yaml)")
    assert list((fault.root / "empty").iterdir()) == []


def test_a_sweep_dir_that_holds_a_sweep_is_refused_before_hydra_writes(fault: Fault):
    sweep = fault.root / "sweep"
    (sweep / "0_model=lstm").mkdir(parents=True)
    (sweep / "multirun.yaml").write_text("hydra: {}\n")
    (sweep / "0_model=lstm" / "results.json").write_text('{"status": "completed"}')
    fault.refused("train", ["-m", *COPY, f"hydra.sweep.dir={sweep}"], "already holds a sweep")


def test_a_refused_config_leaves_no_run_dir_behind(fault: Fault):
    fault.refused(
        "train",
        ["model=lstm", "task=translation", "hydra.run.dir=new_run"],
        "model=lstm cannot be trained on task=translation",
    )
    assert not (fault.root / "new_run").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["trainer.max_steps=1"], "would shorten the run's budget"),
        (["model.hidden_size=32"], "only a longer budget may be given"),
        ([], "the run finished (results.json exists)"),
    ],
)
def test_a_resume_that_would_change_the_run_is_refused_before_hydra_writes(
    fault: Fault, finished_run: Path, overrides: list[str], message: str
):
    fault.refused("train", [f"resume={finished_run}", *overrides], message)
