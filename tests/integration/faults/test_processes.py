"""Real processes: two racing for one run dir, and one killed (SIGKILL) in the middle of a
checkpoint save. Slow (each case starts Python processes), so in the slow suite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from seqlab.reporting.results import lock_holder
from tests.conftest import ROOT, TINY_TASK

pytestmark = pytest.mark.slow

RUN = [
    "model=lstm",
    "task=copy",
    "model.hidden_size=16",
    "trainer.max_epochs=2",
    "trainer.enable_progress_bar=false",
    *TINY_TASK["copy"],
]


def start(args: list[str], cwd: Path, **env: str) -> subprocess.Popen:
    """``python -m seqlab.train`` (through tests/helpers/slow_train.py) in a child process."""
    environment = {**os.environ, "CI": "true", "OMP_NUM_THREADS": "1", **env}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "tests/helpers/slow_train.py"), *args],
        cwd=cwd,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def until(condition, process: subprocess.Popen, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_second_run_and_a_resume_are_refused_while_a_run_trains(tmp_path: Path):
    run_dir = tmp_path / "run"
    first = start([*RUN, f"hydra.run.dir={run_dir}"], tmp_path, SEQLAB_TEST_STEP_DELAY="1.5")
    until(lambda: (run_dir / "config.yaml").exists(), first)
    record = (run_dir / ".hydra" / "config.yaml").read_bytes()
    second = start([*RUN, f"hydra.run.dir={run_dir}"], tmp_path)
    resumed = start([f"resume={run_dir}", "trainer.max_epochs=3"], tmp_path)
    for refused in (second, resumed):
        _, err = refused.communicate(timeout=120)
        assert refused.returncode == 1 and "Traceback" not in err, err[-3000:]
        assert f"is in use by another seqlab process (pid {first.pid})" in err
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-3000:]
    assert json.loads((run_dir / "results.json").read_text())["status"] == "completed"
    assert (run_dir / ".hydra" / "config.yaml").read_bytes() == record
    assert lock_holder(run_dir) is None  # released when the process ended


def test_two_runs_started_together_into_one_dir_one_trains_one_is_refused(tmp_path: Path):
    run_dir = tmp_path / "run"
    racers = [start([*RUN, f"hydra.run.dir={run_dir}"], tmp_path) for _ in range(2)]
    outcomes = [(p.communicate(timeout=300)[1], p.returncode) for p in racers]
    assert sorted(code for _, code in outcomes) == [0, 1], [e[-2000:] for e, _ in outcomes]
    refused = next(err for err, code in outcomes if code == 1)
    assert "Traceback" not in refused
    assert "in use by another seqlab process" in refused or "already holds a run" in refused
    results = json.loads((run_dir / "results.json").read_text())
    assert results["status"] == "completed" and results["optimizer_steps"] > 0


def test_a_run_killed_during_a_checkpoint_save_resumes_from_the_last_whole_one(
    tmp_path: Path,
):
    run_dir = tmp_path / "run"
    args = [*RUN, "callbacks.resume_every_n_steps=2", f"hydra.run.dir={run_dir}"]
    process = start(args, tmp_path, SEQLAB_TEST_SAVE_DELAY="3", SEQLAB_TEST_STEP_DELAY="0.05")
    checkpoints = run_dir / "checkpoints"
    # killed in the middle of a save that follows a whole one
    until(lambda: any(checkpoints.rglob("*.ckpt")) and any(checkpoints.rglob("*.partial")), process)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    partial = next((run_dir / "checkpoints").rglob("*.partial"))
    whole = [p for p in (run_dir / "checkpoints").rglob("*.ckpt")]
    for checkpoint in whole:  # every checkpoint under its own name is whole
        torch.load(checkpoint, map_location="cpu", weights_only=True)
    assert whole
    resumed = start([f"resume={run_dir}"], tmp_path)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0 and "Traceback" not in err, err[-3000:]
    assert f"removed {partial}" in out and not partial.exists()
    assert json.loads((run_dir / "results.json").read_text())["status"] == "completed"
