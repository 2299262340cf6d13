"""python -m seqlab.summarize: tables and figures of a sweep dir (seqlab.reporting.summary)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seqlab.errors import error_boundary
from seqlab.reporting.summary import (
    format_aggregate,
    format_failures,
    format_table,
    write_aggregate,
    write_summary,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="sweep dirs, run dirs or parents")
    args = parser.parse_args(argv)
    with error_boundary("seqlab.summarize"):
        return summarize(args.dirs)
    return 1  # not reached: the boundary exits


def summarize(directories: list[Path]) -> int:
    for directory in directories:
        try:
            rows, path = write_summary(directory)
        except FileNotFoundError as error:
            print(f"seqlab.summarize: {error}", file=sys.stderr)
            return 1
        print(f"{directory}: {len(rows)} runs -> {path}\n{format_table(rows)}\n")
        failures = format_failures(rows)
        if failures:
            print(f"{failures}\n")
        aggregate = write_aggregate(directory)
        if aggregate:
            print(f"mean ± std over seeds -> {aggregate[1]}\n{format_aggregate(aggregate[0])}\n")
    return 0
