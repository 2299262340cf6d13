"""Process-level settings applied once at startup (allocator, threads)."""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass
from typing import Any

import torch

from seqlab.config import require_at_least

M_TRIM_THRESHOLD = -1  # glibc mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3


@dataclass
class RuntimeConfig:
    """malloc_threshold: glibc's mmap and trim thresholds in bytes (0 = glibc's default).
    Raising them keeps oneDNN's LSTM workspace mapped between steps; see
    experiments/benchmarks/README.md. threads: torch threads (0 = PyTorch's default, one per
    core)."""

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


def configure_runtime(options: RuntimeConfig) -> dict[str, Any]:
    """Apply the ``runtime`` options. Returns what was applied, for results.json."""
    threshold, threads = options.malloc_threshold, options.threads
    report: dict[str, Any] = {"malloc_threshold": None, "threads": torch.get_num_threads()}
    if threshold > 0 and set_malloc_thresholds(threshold):
        report["malloc_threshold"] = threshold
    if threads > 0:
        torch.set_num_threads(threads)
        report["threads"] = threads
    return report
