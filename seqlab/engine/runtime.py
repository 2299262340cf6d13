"""Process-level settings applied once at startup (allocator, threads)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from dataclasses import dataclass
from typing import Any

import torch

from seqlab.config.checks import require_at_least

M_TRIM_THRESHOLD = -1  # glibc mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3


@dataclass
class RuntimeConfig:
    """malloc_threshold: glibc's mmap and trim thresholds in bytes (0 = glibc's default).
    Raising them keeps oneDNN's LSTM workspace mapped between steps; see
    docs/benchmarks.md. threads: torch threads (0 = PyTorch's default, one per
    core; under Hydra's joblib launcher, cores divided by the jobs that run side by side)."""

    malloc_threshold: int = 1 << 30
    threads: int = 0

    def __post_init__(self) -> None:
        require_at_least("runtime", 0, malloc_threshold=self.malloc_threshold, threads=self.threads)


def set_malloc_thresholds(threshold: int) -> bool:
    """Raise glibc's mmap and trim thresholds so large buffers (oneDNN's LSTM workspace) are
    reused instead of being mapped and unmapped every step. Returns False where not glibc."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    try:
        libc = ctypes.CDLL(libc_name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok_mmap = mallopt(M_MMAP_THRESHOLD, ctypes.c_int(threshold))
    ok_trim = mallopt(M_TRIM_THRESHOLD, ctypes.c_int(threshold))
    return bool(ok_mmap and ok_trim)


def parallel_jobs() -> int:
    """How many sweep jobs share this machine: ``hydra.launcher.n_jobs`` under Hydra's joblib
    launcher (-1: one per core), else 1."""
    try:
        from hydra.core.hydra_config import HydraConfig

        if not HydraConfig.initialized():
            return 1
        launcher = HydraConfig.get().launcher
    except Exception:  # no Hydra run around this process
        return 1
    if "JoblibLauncher" not in str(launcher.get("_target_", "")):
        return 1
    n_jobs = int(launcher.get("n_jobs") or 1)
    return (os.cpu_count() or 1) if n_jobs < 0 else max(1, n_jobs)


def configure_runtime(options: RuntimeConfig, local_processes: int = 1) -> dict[str, Any]:
    """Apply the ``runtime`` options. ``local_processes``: the run's processes on this
    machine (DDP: trainer.devices), which share its cores with the sweep's parallel jobs.
    Returns what was applied, for results.json."""
    threshold, threads = options.malloc_threshold, options.threads
    jobs = parallel_jobs() * local_processes if threads == 0 else 1
    if jobs > 1:  # no oversubscription: split the cores
        threads = max(1, (os.cpu_count() or 1) // jobs)
    report: dict[str, Any] = {"malloc_threshold": None, "threads": torch.get_num_threads()}
    if threshold > 0 and set_malloc_thresholds(threshold):
        report["malloc_threshold"] = threshold
    if threads > 0:
        torch.set_num_threads(threads)
        report["threads"] = threads
    return report
