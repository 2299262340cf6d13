"""Runs that survive: a run killed (SIGKILL) or stopped (SIGTERM, SIGUSR1) in the middle of
an epoch and resumed ends exactly as the same run never interrupted: test metrics, final
weights bit for bit, and every step's train/ce in metrics.csv and TensorBoard."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from seqlab.engine.checkpoint_io import AtomicCheckpointIO
from seqlab.engine.resume import newest_checkpoint
from seqlab.engine.run import resume_run
from tests.conftest import ROOT, clean_error, run_cli, tiny, train
from tests.unit.reporting.test_step_scalars import tensorboard_scalars

RUN = [
    "trainer.max_epochs=3",
    "trainer.limit_val_batches=2",
    "trainer.limit_test_batches=2",
    "trainer.log_every_n_steps=4",
    "trainer.enable_progress_bar=false",
    "callbacks.resume_every_n_steps=2",
    "runtime.threads=1",
]
PER_STEP = [
    "model=lstm",
    "task=copy",
    "task.n_train=192",
    "task.n_val=64",
    "task.n_test=64",
    "task.batch_size=32",
    "task.delay=5",
    "task.n_recall=3",
    "model.hidden_size=16",
    "model.embedding_size=8",
    "model.dropout=0.1",
]


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def start_slow_run(overrides: list[str], run_dir: Path, delay: float = 0.15) -> subprocess.Popen:
    """The run in a child process, each optimizer step slowed (tests/helpers/slow_train.py)."""
    env = {
        **os.environ,
        "CI": "true",
        "OMP_NUM_THREADS": "1",
        "PYTHONWARNINGS": "ignore",
        "SEQLAB_TEST_STEP_DELAY": str(delay),
    }
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests/helpers/slow_train.py"),
            *overrides,
            f"hydra.run.dir={run_dir}",
        ],
        cwd=run_dir.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def train_ce(run_dir: Path, metric: str = "train/ce") -> list[tuple[int, float]]:
    rows = csv.DictReader((run_dir / "metrics.csv").open())
    return [(int(r["step"]), float(r[metric])) for r in rows if r.get(metric)]


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]


def assert_same_run(
    resumed: dict,
    reference: dict,
    resumed_dir: Path,
    reference_dir: Path,
    epoch_means: bool = False,
) -> None:
    """The same test metrics, per-step losses (metrics.csv and TensorBoard) and final
    weights; with ``epoch_means``, the same train/ce_epoch rows too (a run resumed inside an
    epoch: one resumed at an epoch's end misses that epoch's mean, which Lightning logs
    after the checkpoint, and one stopped at max_steps logs a partial mean there)."""
    tests = {k: v for k, v in reference.items() if k.startswith("test/")}
    assert {k: resumed[k] for k in tests} == tests
    expected = train_ce(reference_dir)
    assert train_ce(resumed_dir) == expected and len(expected) == reference["optimizer_steps"]
    if epoch_means:
        means = train_ce(reference_dir, "train/ce_epoch")
        assert train_ce(resumed_dir, "train/ce_epoch") == means and means
    tensorboard = tensorboard_scalars(resumed_dir / "tensorboard", "train/ce")
    assert tensorboard == tensorboard_scalars(reference_dir / "tensorboard", "train/ce")
    a, b = weights(resumed_dir), weights(reference_dir)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# A language model with random window lengths, dropout and weight drop: its streams' states
# and positions must resume too (16 windows an epoch).
LANGUAGE_MODEL = [
    "model=lstm",
    "task=lm",
    "task.train_path=${oc.env:SEQLAB_TEST_DATA}/text.txt",
    "task.valid_path=${oc.env:SEQLAB_TEST_DATA}/text.txt",
    "task.test_path=${oc.env:SEQLAB_TEST_DATA}/text.txt",
    "task.batch_size=8",
    "training.tbptt_steps=10",
    "training.tbptt_random_length=true",
    "model.hidden_size=16",
    "model.embedding_size=8",
    "model.dropout=0.1",
    "model.weight_drop=0.2",
]


CLASSIFICATION = [
    "model=gru",
    "task=sentiment",
    "task.n_train=192",
    "task.n_val=32",
    "task.n_test=32",
    "task.n_order_pairs=8",
    "task.batch_size=32",
    "model.hidden_size=16",
    "model.embedding_size=8",
    "model.dropout=0.1",
    "callbacks.stop_when_solved=false",
]
SCHEDULED_SAMPLING = [
    "model=seq2seq",
    "model.cell=lstm",
    "task=translation",
    "task.n_train=192",
    "task.n_val=32",
    "task.n_test=32",
    "task.batch_size=32",
    "task.max_len=8",
    "task.test_max_len=10",
    "model.hidden_size=16",
    "model.embedding_size=8",
    "model.dropout=0.1",
    "training.scheduled_sampling.schedule=linear",
    "training.scheduled_sampling.c=0.05",
    "training.lr_schedule=cosine",
    "training.warmup_steps=3",
]


@pytest.mark.parametrize(
    ("name", "task", "stop", "waits_for"),
    [
        ("per-step, killed mid-epoch", PER_STEP, signal.SIGKILL, "resume/step=8.ckpt"),
        pytest.param(
            "per-step, killed after an epoch",
            PER_STEP,
            signal.SIGKILL,
            "last.ckpt",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "language model, killed mid-stream",
            LANGUAGE_MODEL,
            signal.SIGKILL,
            "resume/step=8.ckpt",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "classification, SIGTERM mid-epoch",
            CLASSIFICATION,
            signal.SIGTERM,
            "resume/step=8.ckpt",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "seq2seq with scheduled sampling, SIGUSR1",
            SCHEDULED_SAMPLING,
            signal.SIGUSR1,
            "resume/step=8.ckpt",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_a_stopped_run_resumes_exactly(tmp_path: Path, name, task, stop, waits_for):
    options = [*task, *RUN]
    if waits_for == "last.ckpt":  # only the checkpoint written after the first epoch's validation
        options.append("callbacks.resume_every_n_steps=null")
    reference = train(options, tmp_path / "reference")
    run_dir = tmp_path / "stopped"
    process = start_slow_run(options, run_dir)
    wait_for(run_dir / "checkpoints" / waits_for, process)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=120)
    if stop == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:  # a resumable checkpoint, then a message naming the resume command
        assert process.returncode == 128 + stop, stderr[-3000:]
        assert f"{signal.Signals(stop).name} received: stopped after optimizer step" in stderr
        assert f"python -m seqlab.train resume={run_dir}" in stderr and "Traceback" not in stderr
    assert not (run_dir / "results.json").exists()
    resumed = resume_run(run_dir, [])
    assert resumed["resumed_from"] is not None
    mid_epoch = waits_for != "last.ckpt"
    assert_same_run(resumed, reference, run_dir, tmp_path / "reference", epoch_means=mid_epoch)


def test_a_finished_run_extended_from_its_epoch_end_checkpoint_matches_one_longer_run(
    tmp_path: Path,
):
    """The run stopped at max_steps mid-epoch, with only the checkpoint of the previous
    epoch's end (no periodic one): its extension draws the next epoch's order as the longer
    run did (Lightning starts more loader iterators on a restore than in a running fit).
    TensorBoard orders event files by the second they were created in: the resumed run
    starts a second later, as any real resume does."""
    options = [*PER_STEP, *RUN, "callbacks.resume_every_n_steps=null", "trainer.max_epochs=5"]
    reference = train([*options, "trainer.max_steps=14"], tmp_path / "reference")
    run_dir = tmp_path / "extended"
    train([*options, "trainer.max_steps=8"], run_dir)
    time.sleep(1.0)
    assert torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 6
    resumed = resume_run(run_dir, ["trainer.max_steps=14"])
    assert resumed["resumed_from"].endswith("(step 6)")
    assert_same_run(resumed, reference, run_dir, tmp_path / "reference")


@pytest.mark.slow
def test_resume_from_the_command_line_extends_a_finished_run(tmp_path: Path):
    run_dir = tmp_path / "run"
    first = run_cli([*tiny("gru", "tagging"), f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    hydra_record = (run_dir / ".hydra" / "overrides.yaml").read_text()
    again = run_cli([f"resume={run_dir}", "trainer.max_epochs=2"], cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "seqlab: resuming from" in again.stdout
    results = json.loads((run_dir / "results.json").read_text())
    assert results["epochs"] == 2 and results["config"]["trainer"]["max_epochs"] == 2
    assert json.loads((run_dir / "results.step3.json").read_text())["epochs"] == 1
    assert (run_dir / ".hydra" / "overrides.yaml").read_text() == hydra_record
    assert list((run_dir / ".hydra").glob("resumed-*/overrides.yaml"))
    steps = [step for step, _ in train_ce(run_dir)]
    assert steps == list(range(1, 7))  # 3 steps per epoch, each once


@pytest.mark.parametrize(
    ("setup", "overrides", "message"),
    [
        ("missing", [], "no such directory"),
        ("no_config", [], "not a seqlab run dir (no config.yaml)"),
        ("no_checkpoint", [], "wrote no checkpoint yet"),
        ("finished", [], "the run finished (results.json exists)"),
        ("finished", ["model=gru"], "only a longer budget may be given"),
        ("finished", ["trainer.max_epochs=0"], "would shorten the run's budget"),
        ("finished", ["trainer.max_time=soon"], "trainer.max_time=soon is not a budget"),
    ],
)
def test_what_cannot_be_resumed_is_refused(tmp_path, capsys, setup, overrides, message):
    run_dir = tmp_path / "run"
    if setup != "missing":
        run_dir.mkdir()
    if setup in ("no_checkpoint", "finished"):
        train(tiny("gru", "tagging"), run_dir)
    if setup == "no_checkpoint":
        shutil.rmtree(run_dir / "checkpoints")
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    error = clean_error(lambda: resume_run(run_dir, overrides), capsys)
    assert message in error, error
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == before


def test_resumable_checkpoints_keep_the_newest(tmp_path: Path):
    run_dir = tmp_path / "run"
    train([*PER_STEP, *RUN, "callbacks.resume_keep=2"], run_dir)
    kept = sorted(p.name for p in (run_dir / "checkpoints" / "resume").iterdir())
    assert kept == ["step=14.ckpt", "step=16.ckpt"]
    assert newest_checkpoint(run_dir).checkpoint.name == "last.ckpt"  # step 18, after validation


def test_a_save_that_fails_half_way_leaves_no_checkpoint_under_its_name(tmp_path: Path):
    io = AtomicCheckpointIO()
    path = tmp_path / "step=4.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.ones(3)}}, path)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("killed while saving")

    with pytest.raises(RuntimeError, match="killed while saving"):
        io.save_checkpoint({"state_dict": {"w": torch.zeros(3)}, "x": Unpicklable()}, path)
    assert torch.equal(io.load_checkpoint(path)["state_dict"]["w"], torch.ones(3))


def test_the_same_config_and_seed_give_the_same_results(tmp_path: Path):
    first = train(tiny("lstm", "copy"), tmp_path / "a")
    second = train(tiny("lstm", "copy"), tmp_path / "b")
    assert {k: v for k, v in first.items() if k.startswith("test/")} == {
        k: v for k, v in second.items() if k.startswith("test/")
    }


@pytest.mark.slow
def test_under_slurm_sigusr1_requeues_and_the_requeued_job_resumes(tmp_path: Path):
    """A fake Slurm job (its environment, and an scontrol that records its arguments): SIGUSR1
    writes a checkpoint between batches and requeues the job; the same command, started
    again as Slurm restarts a job, continues the run in its job-named dir to the same end."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "scontrol").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/scontrol.log\n')
    (bin_dir / "scontrol").chmod(0o755)
    slurm = {
        "SLURM_NTASKS": "1",
        "SLURM_JOB_NAME": "seqlab",
        "SLURM_JOB_ID": "4242",
        "SLURM_PROCID": "0",
        "SLURM_LOCALID": "0",
        "SLURM_NODEID": "0",
        "SLURM_NODELIST": "localhost",
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
    }
    options = [*PER_STEP, *RUN]
    reference = train(options, tmp_path / "reference")
    job = tmp_path / "job"
    job.mkdir()
    run_dir = job / "outputs" / "runs" / "slurm-4242_lstm_copy"
    env = {**os.environ, "CI": "true", "OMP_NUM_THREADS": "1", "SEQLAB_TEST_STEP_DELAY": "0.15"}
    command = [sys.executable, str(ROOT / "tests/helpers/slow_train.py"), *options]
    process = subprocess.Popen(
        command, cwd=job, env={**env, **slurm}, stderr=subprocess.PIPE, text=True
    )
    wait_for(run_dir / "checkpoints" / "resume" / "step=8.ckpt", process)
    process.send_signal(signal.SIGUSR1)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGUSR1, stderr[-3000:]
    assert "Slurm job 4242 requeued" in stderr
    assert (tmp_path / "scontrol.log").read_text().split() == ["requeue", "4242"]
    requeued = subprocess.run(
        command,
        cwd=job,
        env={**env, **slurm, "SLURM_RESTART_COUNT": "1", "SEQLAB_TEST_STEP_DELAY": "0"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert requeued.returncode == 0, requeued.stderr[-3000:]
    assert "seqlab: resuming from" in requeued.stdout
    resumed = json.loads((run_dir / "results.json").read_text())
    assert_same_run(resumed, reference, run_dir, tmp_path / "reference")
