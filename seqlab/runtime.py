"""Process-level settings applied once at startup (allocator, threads)."""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

import torch

M_TRIM_THRESHOLD = -1  # glibc mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3


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


def configure_runtime(options: Any) -> dict[str, Any]:
    """Apply ``runtime`` config: malloc_threshold (bytes, 0 = leave glibc's default) and
    threads (0 = PyTorch's default). Returns what was applied, for results.json."""
    threshold = int(options.get("malloc_threshold", 0) or 0)
    threads = int(options.get("threads", 0) or 0)
    report: dict[str, Any] = {"malloc_threshold": None, "threads": torch.get_num_threads()}
    if threshold > 0 and set_malloc_thresholds(threshold):
        report["malloc_threshold"] = threshold
    if threads > 0:
        torch.set_num_threads(threads)
        report["threads"] = threads
    return report
