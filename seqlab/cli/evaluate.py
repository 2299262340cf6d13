"""``python -m seqlab.evaluate ckpt_path=... [split=test]``: a checkpoint's metrics on a split
(seqlab.inference.evaluate)."""

from __future__ import annotations

import sys

from seqlab.errors import error_boundary
from seqlab.inference.evaluate import USAGE, evaluate


def main(argv: list[str] | None = None) -> int:
    with error_boundary("seqlab.evaluate", USAGE):
        evaluate(sys.argv[1:] if argv is None else argv)
    return 0
