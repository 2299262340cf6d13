"""python -m seqlab.plot: figures and tables from run dirs (seqlab.reporting.plot)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seqlab.errors import error_boundary
from seqlab.reporting.plot import collect_curves, write_metric_bars, write_plot


def main(argv: list[str] | None = None) -> int:
    with error_boundary("seqlab.plot"):
        return draw(argv)
    return 1  # not reached: the boundary exits


def draw(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="run dirs or sweep dirs")
    parser.add_argument("--out", type=Path, help="output path without suffix")
    parser.add_argument("--title", default=None)
    parser.add_argument(
        "--metric",
        action="append",
        default=[],
        help="draw these test metrics as bars instead of BLEU by length",
    )
    parser.add_argument("--against", help="a config key the runs vary (task.delay)")
    parser.add_argument("--heatmap", action="store_true", help="with --against: a heat-map")
    parser.add_argument("--solved", type=float, help="with --against: the solved threshold")
    parser.add_argument("--curve", action="append", default=[], help="a logged train scalar")
    parser.add_argument("--gradient-flow", action="store_true", help="gradient_flow.csv files")
    args = parser.parse_args(argv)
    try:
        if args.against or args.curve or args.gradient_flow:
            return other_views(args)
    except FileNotFoundError as error:
        print(f"seqlab.plot: {error}", file=sys.stderr)
        return 1
    if args.metric:
        try:
            written = write_metric_bars(
                args.dirs,
                args.metric,
                args.out or args.dirs[0] / "metrics",
                args.title or ", ".join(args.metric),
            )
        except FileNotFoundError as error:
            print(f"seqlab.plot: {error}", file=sys.stderr)
            return 1
        if written is None:
            print(
                f"seqlab.plot: no run under {', '.join(map(str, args.dirs))} has "
                f"{', '.join(args.metric)}",
                file=sys.stderr,
            )
            return 1
        print(f"seqlab.plot: -> {written[0]} and {written[1]}")
        return 0
    try:
        curves = collect_curves(args.dirs)
    except FileNotFoundError as error:
        print(f"seqlab.plot: {error}", file=sys.stderr)
        return 1
    if not curves:
        print(
            "seqlab.plot: no run with test/bleu_by_length under "
            f"{', '.join(map(str, args.dirs))} (train a seq2seq model first)",
            file=sys.stderr,
        )
        return 1
    png, table = write_plot(
        curves,
        args.out or args.dirs[0] / "bleu_vs_length",
        args.title or "BLEU by source sentence length",
    )
    print(f"seqlab.plot: {len(curves)} curves -> {png} and {table}")
    return 0


def other_views(args: argparse.Namespace) -> int:
    """--against, --curve and --gradient-flow (seqlab.reporting.sweep_figures)."""
    from seqlab.reporting import sweep_figures

    out_dir = args.dirs[0]
    written: list[str] = []
    if args.against:
        if len(args.metric) != 1:
            print("seqlab.plot: --against needs one --metric (test/...)", file=sys.stderr)
            return 1
        metric = args.metric[0]
        out = args.out or out_dir / f"{metric.replace('/', '_')}_by_{args.against.split('.')[-1]}"
        found = sweep_figures.write_against(
            args.dirs, args.against, metric, out, args.heatmap, args.solved
        )
        written += [str(p) for p in found or []]
    for metric in args.curve:
        png = sweep_figures.write_curves(args.dirs, metric, out_dir / metric.replace("/", "_"))
        written += [str(png)] if png else []
    if args.gradient_flow:
        flow = sweep_figures.write_gradient_flow(args.dirs, args.out or out_dir / "gradient_flow")
        written += [*map(str, flow[0]), str(flow[1])] if flow else []
    if not written:
        print(
            f"seqlab.plot: nothing to draw under {', '.join(map(str, args.dirs))} (no run with "
            "that metric, scalar or gradient_flow.csv)",
            file=sys.stderr,
        )
        return 1
    print(f"seqlab.plot: -> {', '.join(written)}")
    return 0
