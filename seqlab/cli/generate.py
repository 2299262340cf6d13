"""``python -m seqlab.generate ckpt_path=... prompt="..."``: sample text from a language
model (seqlab.inference.generate)."""

from __future__ import annotations

import sys

from seqlab.errors import error_boundary
from seqlab.inference.generate import USAGE, generate


def main(argv: list[str] | None = None) -> int:
    with error_boundary("seqlab.generate", USAGE):
        generate(sys.argv[1:] if argv is None else argv)
    return 0
