"""Measure seqlab's training overhead against a plain PyTorch loop, side by side.

    python scripts/benchmark.py                 # every section (data, launchers, ddp: 2-3 min each)
    python scripts/benchmark.py --quick         # fewer steps, for a smoke test
    python scripts/benchmark.py --only seq2seq  # one section (see Sections below)

Sections
  overhead   milliseconds per step of the training loop itself (a tiny model): the plain
             loop, the smallest manual-optimisation LightningModule, and seqlab (the Trainer,
             callbacks and loggers `python -m seqlab.train` builds, validation left out);
             and the CPU time a step of writing three scalars to TensorBoard, through
             Lightning's log_metrics and through seqlab's step-scalar bursts.
  perstep    the same RecurrentTagger on the same copy data trained through (a) seqlab's
             path (Lightning Trainer + PerStepObjective + TensorBoard/CSV logging, as
             `python -m seqlab.train` builds it) and (b) a plain loop written here;
             tokens/s of each and the ratio, for vanilla/lstm/gru x fused/explicit.
  peak       the oneDNN matmul peak (GFLOP/s) against fused LSTM training at hidden 512.
  allocator  fused LSTM training in child processes with glibc's default malloc and with
             seqlab's raised mmap/trim thresholds: tokens/s and peak memory.
  seq2seq    a teacher-forced seq2seq (fixed context) training step through seqlab's path vs a
             plain loop; a scheduled-sampling step (ratio 0.5) vs a teacher-forced one for GRU
             and LSTM fixed-context decoders and a GRU attention decoder; greedy and beam-5
             decoding in sentences/s.
  attention  teacher-forced RNNsearch against RNNenc at the bahdanau experiment's sizes
             (GRU 128, batch 64, source length 30): the attention decoder as seqlab runs it
             and as its definition (one step call per position), RNNsearch with a
             one-directional encoder, Luong's general attention with and without input
             feeding; training tokens/s and the ratios, and each model's matrix-multiply
             FLOPs a step over RNNenc's (the speed ratio at RNNenc's FLOPs per second).
  lm         a character-level language model at the language_model experiment's sizes
             (embedding 128, one layer of 512, 32 streams, windows of 100): stateful
             truncated BPTT through seqlab's path (task=lm's objective and stream loader)
             against a plain PyTorch loop over the same streams; tokens/s and the ratio, for
             lstm, gru and vanilla.
  data       a 1M-pair tsv file (scripts/make_large_tsv.py, Zipfian words from 200k forms per
             side, about 570k whitespace types; --data-lexicon 0 for the synthetic language):
             reading it, against reading, tokenizing (whitespace, word, sentencepiece),
             building vocabularies and encoding it as task=tsv does (a first run, which fills
             the encoded-data cache, and a second run, which reads it), and one epoch of
             training batches; seconds, phases and peak memory, each in its own process,
             3 interleaved rounds. --data-baseline DIR: each round also makes the first and
             the cached run with the seqlab checkout in DIR (an earlier commit's worktree),
             and prints this checkout's setup time and peak memory over its.
  precision  the plain fused LSTM/GRU loop in float32 and under bfloat16 autocast
             (bf16-mixed): tokens/s and the ratio.
  launchers  a 4-job sweep through Hydra's basic launcher (one job at a time, torch on both
             cores) and the joblib launcher (2 jobs side by side, 1 thread each): wall time
             and the speed-up.
  ddp        DDP on CPU: 2 processes (gloo, a core each) against 1 process (both cores) on
             the same model and global batch; training tokens/s and the ratio.
  gpu        (skipped without a CUDA GPU) on the card: raw cuDNN (nn.Embedding + nn.LSTM/GRU +
             nn.Linear in a plain loop) against seqlab's fused model in the same loop, seqlab's
             whole path (Lightning, trainer=gpu), the bare LightningModule, seqlab's
             explicit gate-level cells and the raw loop's whole step as one CUDA graph (no
             host work per kernel: the card's ceiling); float32 against 16-mixed and
             bf16-mixed autocast; tokens/s and ratios.

Runs alternate (a, b, a, b, ...) in rounds. Ratios are reported as the median over rounds
with the rounds' range and the best-of-N ratio beside it, and a warning is printed when the
range is wider than the effect measured (this machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

# seqlab from this checkout, or from the one $SEQLAB_CHECKOUT names (the data section's baseline)
sys.path.insert(0, os.environ.get("SEQLAB_CHECKOUT") or str(Path(__file__).resolve().parents[1]))

from benchmarks import (
    allocator,
    attention,
    data,
    ddp,
    gpu,
    launchers,
    lm,
    overhead,
    peak,
    perstep,
    precision,
    seq2seq,
)

SECTIONS = (
    "overhead",
    "perstep",
    "peak",
    "allocator",
    "seq2seq",
    "attention",
    "lm",
    "data",
    "precision",
    "launchers",
    "ddp",
    "gpu",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    parser.add_argument(
        "--only",
        choices=SECTIONS,
    )
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument(
        "--data-lexicon",
        type=int,
        default=200_000,
        help="data section: word forms per side of the corpus (make_large_tsv.py --lexicon; "
        "0: the synthetic language, 190 word types)",
    )
    parser.add_argument(
        "--data-baseline",
        type=Path,
        help="data section: also measure the seqlab checkout in this folder (e.g. a git "
        "worktree of an earlier commit), interleaved, and print this checkout's time and peak "
        "memory over its",
    )
    parser.add_argument(
        "--default-malloc",
        action="store_true",
        help="keep glibc's malloc thresholds (seqlab raises them at startup)",
    )
    parser.add_argument("--allocator-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data-child", nargs=2, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--hidden", type=int, default=128, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.allocator_child is not None:
        allocator.allocator_child(args.allocator_child, args.hidden, args.steps)
        return
    if args.data_child is not None:
        data.data_child(*args.data_child)
        return
    if not args.default_malloc:  # as python -m seqlab.train does (configs/train.yaml runtime)
        from seqlab.engine.runtime import set_malloc_thresholds

        set_malloc_thresholds(1 << 30)
    args.steps = args.steps or (30 if args.quick else 150)
    args.repeats = args.repeats or (1 if args.quick else 5)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"steps {args.steps}, repeats {args.repeats}"
    )
    report: dict = {}
    sections = [args.only] if args.only else list(SECTIONS)
    for section in sections:
        print(f"\n[{section}]", flush=True)
        report[section] = {
            "overhead": overhead.bench_overhead,
            "perstep": perstep.bench_perstep,
            "peak": peak.bench_peak,
            "allocator": allocator.bench_allocator,
            "seq2seq": seq2seq.bench_seq2seq,
            "attention": attention.bench_attention,
            "lm": lm.bench_lm,
            "data": data.bench_data,
            "precision": precision.bench_precision,
            "launchers": launchers.bench_launchers,
            "ddp": ddp.bench_ddp,
            "gpu": gpu.bench_gpu,
        }[section](args)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
