"""``python -m seqlab.translate ckpt_path=... input=FILE``: a checkpoint translates lines
(seqlab.inference.translate)."""

from __future__ import annotations

import sys

from seqlab.errors import error_boundary
from seqlab.inference.translate import USAGE, translate_lines


def main(argv: list[str] | None = None) -> int:
    with error_boundary("seqlab.translate", USAGE):
        translate_lines(sys.argv[1:] if argv is None else argv)
    return 0
