"""Slurm: the job id, requeueing a job, and whether this process is a requeued job."""

from __future__ import annotations

import os
import subprocess

from lightning.fabric.plugins.environments import SLURMEnvironment


def slurm_job_id() -> str | None:
    """The Slurm job (``<array job>_<task>`` for an array task) this process runs in, if
    Lightning's SLURM environment detects one."""
    if not SLURMEnvironment.detect():
        return None
    array_job = os.environ.get("SLURM_ARRAY_JOB_ID")
    if array_job:
        return f"{array_job}_{os.environ['SLURM_ARRAY_TASK_ID']}"
    return os.environ["SLURM_JOB_ID"]


def requeue_slurm_job(job: str) -> str:
    """Ask Slurm to requeue ``job`` (``scontrol requeue``); say how it went."""
    try:
        done = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True)
    except FileNotFoundError:
        return f"Slurm job {job} not requeued: scontrol is not on PATH"
    if done.returncode != 0:
        return f"Slurm job {job} not requeued: scontrol said {done.stderr.strip()[:200]}"
    return f"Slurm job {job} requeued; it resumes when it starts again"


def requeued_under_slurm() -> bool:
    """This process is a Slurm job that Slurm (or Lightning's SIGUSR1 handler) requeued."""
    return SLURMEnvironment.detect() and int(os.environ.get("SLURM_RESTART_COUNT", "0")) > 0
