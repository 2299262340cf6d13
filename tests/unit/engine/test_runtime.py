"""Process settings: allocator thresholds and threads."""

from __future__ import annotations

import pytest
import torch

from seqlab.engine.runtime import RuntimeConfig, configure_runtime
from seqlab.errors import ConfigError


def test_threads_and_thresholds_are_applied_and_reported():
    before = torch.get_num_threads()
    try:
        report = configure_runtime(RuntimeConfig(malloc_threshold=1 << 30, threads=1))
        assert report["threads"] == 1 and torch.get_num_threads() == 1
        assert report["malloc_threshold"] in (1 << 30, None)  # None where not glibc
        assert configure_runtime(RuntimeConfig(malloc_threshold=0))["malloc_threshold"] is None
    finally:
        torch.set_num_threads(before)


def test_negative_values_are_refused():
    with pytest.raises(ConfigError, match="runtime.malloc_threshold must be >= 0"):
        RuntimeConfig(malloc_threshold=-1)
