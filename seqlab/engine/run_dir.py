"""Where a run writes: the default run dir, Hydra's output subdir, the refusal to write into
a directory that holds another run, and the run dir's owner.

A run dir has one owner: the process that holds its lock (:func:`claim_run_dir`), an OS file
lock (``flock``) on ``<run dir>/.seqlab.lock`` held for the life of the run, resumes included.
The operating system releases it when the process ends, however it ends (a killed run leaves
no stale lock), so a second run or a ``resume=`` of a run still training is refused at once.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from seqlab.engine.slurm import requeued_under_slurm, slurm_job_id
from seqlab.errors import ConfigError
from seqlab.reporting.results import LOCK_FILE, RESULTS_FILE, held_run_dirs, lock_holder

_held = held_run_dirs  # run dir -> the open lock file, for each dir this process owns
_created: dict[Path, bool] = {}  # whether this process created the dir it owns


def default_run_dir(resume: str | None, model: str, task: str) -> str:
    """Where a run writes: the resumed run's dir; under Slurm a dir named by the job, so a
    requeued job finds its run again; else a new dir named by date and time."""
    if resume:
        return str(resume)
    job = slurm_job_id()
    if job is not None:
        return f"outputs/runs/slurm-{job}_{model}_{task}"
    return datetime.now().strftime("outputs/runs/%Y-%m-%d/%H-%M-%S-%f") + f"_{model}_{task}"


def hydra_output_subdir(resume: str | None) -> str:
    """Hydra's record of a launch: ``.hydra`` for a new run, beside it for each resume."""
    if resume or requeued_under_slurm():
        return datetime.now().strftime(".hydra/resumed-%Y-%m-%d_%H-%M-%S")
    return ".hydra"


def guard_run_dir(run_dir: Path) -> None:
    """Refuse to write into a directory that already holds a finished or started run."""
    for name in (RESULTS_FILE, "checkpoints", "config.yaml"):
        if (run_dir / name).exists():
            raise ConfigError(
                f"{run_dir} already holds a run ({name} exists); seqlab never overwrites a "
                f"previous run. Choose another hydra.run.dir or leave it at its default."
            )


def require_run_dir(run_dir: Path) -> None:
    """Refuse to resume a directory that is not a seqlab run dir (it has no config.yaml)."""
    if not (Path(run_dir) / "config.yaml").is_file():
        raise ConfigError(
            f"resume={run_dir}: not a seqlab run dir (no config.yaml); give the directory a "
            f"run printed at its start (seqlab: ... run_dir=...)"
        )


def _creatable(run_dir: Path) -> None:
    """Refuse a run dir that cannot be a directory (a file on its path) before writing."""
    for path in (run_dir, *run_dir.parents):
        if path.exists():
            if not path.is_dir():
                raise ConfigError(
                    f"cannot write the run into {run_dir}: {path} is a file, not a directory; "
                    f"choose another hydra.run.dir"
                )
            if not os.access(path, os.W_OK | os.X_OK) and path != run_dir:
                raise ConfigError(
                    f"cannot write the run into {run_dir}: {path} is not writable; choose "
                    f"another hydra.run.dir"
                )
            return


def claim_run_dir(run_dir: Path, resuming: bool) -> bool:
    """Make this process ``run_dir``'s owner until it ends (or :func:`release_run_dir`):
    refused when another process holds it, and, unless ``resuming``, when it already holds a
    run. Returns False when this process already owned it (nothing to release)."""
    run_dir = Path(run_dir).resolve()
    if run_dir in _held:
        return False
    _creatable(run_dir)
    holder = lock_holder(run_dir)  # read only: says who, before anything else is checked
    if holder is not None:
        raise in_use(run_dir, holder)
    if resuming:
        require_run_dir(run_dir)
    else:
        guard_run_dir(run_dir)  # before anything is written
    created = not run_dir.exists()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise ConfigError(
            f"cannot write the run into {run_dir}: {error.strerror}; choose another hydra.run.dir"
        ) from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        os.close(descriptor)
        if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            raise
        raise in_use(run_dir, lock_holder(run_dir)) from None
    try:
        if not resuming:
            guard_run_dir(run_dir)  # again, now that no one else can start a run here
    except ConfigError:
        os.close(descriptor)
        raise
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"{os.getpid()}\n".encode())
    _held[run_dir] = descriptor
    _created[run_dir] = created
    return True


def in_use(run_dir: Path, holder: int | None) -> ConfigError:
    return ConfigError(
        f"{run_dir} is in use by another seqlab process (pid {holder}): a run dir has one "
        f"owner. Wait for that run to end (or stop it), then resume; or write to another "
        f"directory"
    )


def release_run_dir(run_dir: Path) -> None:
    """Give up the ownership :func:`claim_run_dir` took (the process's end does it too). A
    dir in which no run started (refused before its config.yaml was written) is left as it
    was found: the lock file goes, and the dir too if this process created it."""
    run_dir = Path(run_dir).resolve()
    descriptor = _held.pop(run_dir, None)
    if descriptor is None:
        return
    if not (run_dir / "config.yaml").exists():
        (run_dir / LOCK_FILE).unlink(missing_ok=True)  # while still locked: no one else has it
        if _created.pop(run_dir, False) and not any(run_dir.iterdir()):
            run_dir.rmdir()
    os.close(descriptor)  # closing the file releases the lock


@contextmanager
def owned_run_dir(run_dir: Path, resuming: bool) -> Iterator[None]:
    """``run_dir`` owned for the block; released after it if this block took it."""
    took = claim_run_dir(run_dir, resuming)
    try:
        yield
    finally:
        if took:
            release_run_dir(run_dir)


def guard_sweep_dir(sweep_dir: Path) -> None:
    """Refuse a sweep dir that already holds a sweep (its multirun.yaml, or any job's run)."""
    if not sweep_dir.exists():
        _creatable(sweep_dir)
        return
    if not sweep_dir.is_dir():
        raise ConfigError(f"hydra.sweep.dir={sweep_dir} is a file, not a directory")
    held = next(
        (
            p
            for name in ("multirun.yaml", RESULTS_FILE, "config.yaml")
            for p in sweep_dir.rglob(name)
        ),
        None,
    )
    if held is not None:
        raise ConfigError(
            f"hydra.sweep.dir={sweep_dir} already holds a sweep ({held} exists); seqlab never "
            f"overwrites a previous run. Choose another hydra.sweep.dir or leave it at its "
            f"default"
        )
