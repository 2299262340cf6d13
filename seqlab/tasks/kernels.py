"""The compiled token kernels (``seqlab/tasks/_token_kernel.c``, built by ``setup.py`` when
seqlab is installed where a C compiler is found), or None: the numpy code that gives the same
results, more slowly, is used then.

``SEQLAB_TOKEN_KERNEL=numpy`` in the environment turns the kernels off (scripts/benchmark.py
measures both sides); tests set ``compiled`` to None to check that both give the same."""

from __future__ import annotations

import os
from types import ModuleType

compiled: ModuleType | None
try:
    from seqlab.tasks import _token_kernel as compiled
except ImportError:  # not built: no C compiler when seqlab was installed
    compiled = None
if os.environ.get("SEQLAB_TOKEN_KERNEL") == "numpy":
    compiled = None


NOT_BUILT = (
    "tokenized by the numpy code, as seqlab's compiled kernels are not built: with a C "
    "compiler, `pip install -e .` again builds them (first runs on large tsv files 1.3-1.9x "
    "quicker, scripts/benchmark.py --only data)"
)


def describe() -> str:
    """Which code tokenizes: for logs and benchmark reports."""
    return "compiled kernels" if compiled is not None else "numpy (no compiled kernels)"
