"""Where a run writes: the default run dir, Hydra's output subdir, and the refusal to write
into a directory that holds another run."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from seqlab.engine.slurm import requeued_under_slurm, slurm_job_id
from seqlab.errors import ConfigError
from seqlab.reporting.results import RESULTS_FILE


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
    for name in (RESULTS_FILE, "checkpoints"):
        if (run_dir / name).exists():
            raise ConfigError(
                f"{run_dir} already holds a run ({name} exists); seqlab never overwrites a "
                f"previous run. Choose another hydra.run.dir or leave it at its default."
            )
