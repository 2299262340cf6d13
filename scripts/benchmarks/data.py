"""The data section: a 1M-pair tsv file: reading it, against a first run of task=tsv (tokenizing,
vocabularies, encoding) and a cached run, per tokenizer, each in its own process, in interleaved
rounds; with --data-baseline, the same first and cached runs of another seqlab checkout beside
them."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from benchmarks.common import ROOT, SCRIPT


def data_child(kind: str, path: str) -> None:
    """Runs in a child process: one data measurement, printed as JSON. The runtime settings
    (allocator thresholds, threads) are those of a training run. The seqlab imported is the
    checkout named by $SEQLAB_CHECKOUT (scripts/benchmark.py puts it first on the path)."""
    try:
        from seqlab.engine.runtime import RuntimeConfig, configure_runtime
    except ImportError:  # a checkout from before the package layout
        from seqlab.runtime import RuntimeConfig, configure_runtime  # type: ignore[no-redef]

    configure_runtime(RuntimeConfig())
    start = time.perf_counter()
    row: dict = {"kind": kind}
    if kind == "read":
        try:
            from seqlab.data.files import read_data_lines
        except ImportError:  # before the package layout
            from seqlab.tasks.files import read_data_lines  # type: ignore[no-redef]

        row["lines"] = len(read_data_lines(path, "source<TAB>target")[1])
    else:
        from seqlab.tasks.tsv import TsvConfig, TsvTranslationDataModule

        small = path + ".small"
        config = TsvConfig(train_path=path, valid_path=small, test_path=small, tokenizer=kind)
        data = TsvTranslationDataModule(config)
        data.setup()
        row["setup_s"] = time.perf_counter() - start
        row["phases_s"] = data.setup_seconds  # empty when read from the cache
        row["vocab"] = [len(data.source_vocab), len(data.target_vocab)]
        epoch = time.perf_counter()
        row["batches"] = sum(1 for _ in data.train_dataloader())
        row["epoch_of_batches_s"] = time.perf_counter() - epoch
    row["seconds"] = time.perf_counter() - start
    row["seqlab"] = str(Path(sys.modules["seqlab"].__file__).parents[1])  # which checkout ran
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(row))


def run_data_child(kind: str, path: Path, cache: Path, checkout: Path = ROOT) -> dict:
    env = {**os.environ, "SEQLAB_CACHE_DIR": str(cache), "SEQLAB_CHECKOUT": str(checkout)}
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--data-child", kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def bench_data(args: argparse.Namespace) -> list[dict]:
    """Reading against a first run (no cache: reading, tokenizer training, tokenizing and
    encoding) and a cached run, per tokenizer, in rounds: read, first, cached, (baseline
    first, baseline cached), read, ... The ratio to reading leaves out tokenizer training
    (sentencepiece learning its pieces, a model fit whose cost depends on the sample, not on
    the corpus size) and is also given with it."""
    pairs = 50_000 if args.quick else 1_000_000
    rounds = 1 if args.quick else 3
    baseline = args.data_baseline
    sides = {"": ROOT, **({"baseline ": baseline} if baseline else {})}
    runs_measured = [f"{side}{run}" for side in sides for run in ("first run", "cached")]
    rows = []
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.tsv"
        script = ROOT / "scripts" / "make_large_tsv.py"
        corpus = [str(path), "--pairs", str(pairs), "--lexicon", str(args.data_lexicon)]
        subprocess.run([sys.executable, str(script), *corpus], check=True)
        with path.open(encoding="utf-8") as full, Path(f"{path}.small").open("w") as small:
            small.writelines(line for _, line in zip(range(1000), full, strict=False))
        size_mb = path.stat().st_size / 1e6
        if baseline:
            print(f"  baseline: the seqlab checkout in {baseline}", flush=True)
        for kind in ("whitespace", "word", "sentencepiece"):
            measured: dict[str, list[dict]] = {"read": [], **{run: [] for run in runs_measured}}
            for round_ in range(rounds):
                measured["read"].append(run_data_child("read", path, Path(tmp) / "unused"))
                for side, checkout in sides.items():
                    cache = Path(tmp) / f"cache-{kind}-{round_}-{side.strip() or 'this'}"
                    for run in ("first run", "cached"):
                        row = run_data_child(kind, path, cache, checkout)
                        assert row["seqlab"] == str(checkout), (row["seqlab"], checkout)
                        measured[f"{side}{run}"].append(row)
            reads = [row["seconds"] for row in measured["read"]]
            for run in runs_measured:
                runs = measured[run]
                # each run against the reading measured just before it
                without_training = [
                    (row["setup_s"] - row["phases_s"].get("tokenizers", 0.0)) / read
                    for row, read in zip(runs, reads, strict=True)
                ]
                with_training = [
                    row["setup_s"] / read for row, read in zip(runs, reads, strict=True)
                ]
                row = {
                    "kind": kind,
                    "run": run,
                    "pairs": pairs,
                    "file_mb": size_mb,
                    "lexicon": args.data_lexicon,
                    "read_s": reads,
                    "setup_s": [r["setup_s"] for r in runs],
                    "phases_s": [r["phases_s"] for r in runs],
                    "times_reading": median(without_training),
                    "times_reading_range": [min(without_training), max(without_training)],
                    "times_reading_with_training": median(with_training),
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                    "read_peak_rss_mb": max(r["peak_rss_mb"] for r in measured["read"]),
                    "vocab": runs[0]["vocab"],
                    "epoch_of_batches_s": [r["epoch_of_batches_s"] for r in runs],
                }
                rows.append(row)
                phases = runs[len(runs) // 2]["phases_s"]
                detail = (
                    f"reading {phases['read']:.1f} s, training tokenizers "
                    f"{phases['tokenizers']:.1f} s, tokenizing+encoding {phases['encode']:.1f} s"
                    if phases
                    else "from the cache"
                )
                low, high = row["times_reading_range"]
                print(
                    f"  {pairs:,} pairs, {size_mb:.0f} MB, {kind:<13} {run:<25} "
                    f"setup {median(row['setup_s']):6.1f} s = "
                    f"{row['times_reading']:4.1f}x reading [{low:.1f}-{high:.1f}] without "
                    f"tokenizer training, {row['times_reading_with_training']:4.1f}x with "
                    f"(reading {median(reads):.1f} s; {detail}); "
                    f"peak {row['peak_rss_mb']:,.0f} MB (reading {row['read_peak_rss_mb']:,.0f})"
                    f"; vocab {row['vocab'][0]:,}/{row['vocab'][1]:,}; an epoch of "
                    f"{runs[0]['batches']:,} batches {median(row['epoch_of_batches_s']):.1f} s",
                    flush=True,
                )
            if baseline:
                for run in ("first run", "cached"):
                    ours, theirs = measured[run], measured[f"baseline {run}"]
                    ratios = [
                        a["setup_s"] / b["setup_s"] for a, b in zip(ours, theirs, strict=True)
                    ]
                    peaks = [
                        a["peak_rss_mb"] / b["peak_rss_mb"]
                        for a, b in zip(ours, theirs, strict=True)
                    ]
                    same = all(a["vocab"] == b["vocab"] for a, b in zip(ours, theirs, strict=True))
                    rows.append(
                        {
                            "kind": kind,
                            "run": f"{run}: this checkout against the baseline",
                            "setup_ratio": median(ratios),
                            "setup_ratio_range": [min(ratios), max(ratios)],
                            "peak_ratio": median(peaks),
                            "peak_ratio_range": [min(peaks), max(peaks)],
                            "same_vocabularies": same,
                        }
                    )
                    print(
                        f"  {kind:<13} {run:<10} this checkout / baseline: setup "
                        f"{median(ratios):.2f}x [{min(ratios):.2f}-{max(ratios):.2f}], peak "
                        f"memory {median(peaks):.2f}x [{min(peaks):.2f}-{max(peaks):.2f}] "
                        f"(rounds interleaved; same vocabulary sizes: {same})",
                        flush=True,
                    )
    return rows
