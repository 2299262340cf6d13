"""The attention section: teacher-forced training steps of RNNsearch (additive attention)
against RNNenc (fixed context) at the bahdanau experiment's sizes, side by side: the additive
decoder as seqlab runs it (seqlab/models/attention_decoder.py: one autograd function with a
hand-written backward) and as its definition (one :meth:`Seq2Seq.step` per position), RNNsearch
with a one-directional encoder (the decoder's share of the cost, apart from the second
encoder direction), and Luong's general attention with and without input feeding; training
tokens/s and the ratios. Beside each ratio, the matrix-multiply FLOPs of one training step
(forward and backward, counted by torch.utils.flop_counter) over RNNenc's: the speed ratio a
side would have at RNNenc's FLOPs per second, and so the ceiling of what a faster
implementation of the same model can reach; speed ratio / FLOP ratio is its efficiency
relative to RNNenc."""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from benchmarks.common import plain_adam, ratio_spread
from benchmarks.seq2seq import translation_batches


def bahdanau_model(
    vocab: tuple[int, int],
    attention: str,
    input_feeding: bool = True,
    bidirectional: bool | None = None,
):
    """configs/experiment/bahdanau.yaml: GRU 128, embeddings 64, attention 128, the
    attention models' encoder bidirectional (unless ``bidirectional`` says)."""
    from seqlab.models.encoder_decoder import Seq2Seq, Seq2SeqConfig

    torch.manual_seed(0)
    config = Seq2SeqConfig(
        cell="gru",
        embedding_size=64,
        hidden_size=128,
        attention=attention,
        bidirectional=attention != "none" if bidirectional is None else bidirectional,
        attention_size=128,
        input_feeding=input_feeding,
    )
    return Seq2Seq(vocab[0], vocab[1], config)


def step_loop_logits(model, b: dict) -> torch.Tensor:
    """The attention decoder one :meth:`Seq2Seq.step` per position (the definition)."""
    memory, state = model.encode(b["src"], b["src_lengths"])
    logits = []
    for token in b["tgt_in"].unbind(1):
        step_logits, state, _ = model.step(token, state, memory)
        logits.append(step_logits)
    return torch.stack(logits, 1)


def step_gflops(model, batches: list[dict], step_loop: bool = False) -> float:
    """Matrix-multiply GFLOPs of one training step (forward and backward) as
    :func:`train_seconds` runs it, the mean over ``batches``. Element-wise work (the additive
    energies' σ, the cells' gates) is not counted."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        for b in batches:
            if step_loop:
                logits = step_loop_logits(model, b)
            else:
                logits = model(b["src"], b["src_lengths"], b["tgt_in"])
            F.cross_entropy(logits.flatten(0, 1), b["tgt_out"].flatten(), ignore_index=0).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / len(batches) / 1e9


def train_seconds(model, batches: list[dict], steps: int, step_loop: bool = False) -> float:
    optimizer = plain_adam(model)
    start = time.perf_counter()
    for step in range(steps):
        b = batches[step % len(batches)]
        if step_loop:
            logits = step_loop_logits(model, b)
        else:
            logits = model(b["src"], b["src_lengths"], b["tgt_in"])
        loss = F.cross_entropy(logits.flatten(0, 1), b["tgt_out"].flatten(), ignore_index=0)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def bench_attention(args: argparse.Namespace) -> dict:
    batches, *vocab = translation_batches(8, 64, 30)  # batch 64, source length 30
    sizes = (vocab[0], vocab[1])
    tokens = sum(int(b["src_lengths"].sum()) + int((b["tgt_out"] != 0).sum()) for b in batches)
    tokens_per_batch = tokens / len(batches)
    steps = max(args.steps // 10, 4)
    models = {
        "fixed_context": lambda: bahdanau_model(sizes, "none"),
        "attention": lambda: bahdanau_model(sizes, "additive"),
        "attention_one_direction": lambda: bahdanau_model(sizes, "additive", bidirectional=False),
        "luong_general_no_feeding": lambda: bahdanau_model(sizes, "general", input_feeding=False),
        "luong_general_feeding": lambda: bahdanau_model(sizes, "general"),
    }
    gflops = {name: step_gflops(make(), batches) for name, make in models.items()}
    gflops["attention_step_loop"] = step_gflops(models["attention"](), batches, step_loop=True)
    sides = {
        "fixed_context": lambda: train_seconds(bahdanau_model(sizes, "none"), batches, steps),
        "attention_step_loop": lambda: train_seconds(
            bahdanau_model(sizes, "additive"), batches, steps, step_loop=True
        ),
        "attention": lambda: train_seconds(bahdanau_model(sizes, "additive"), batches, steps),
        "attention_one_direction": lambda: train_seconds(
            bahdanau_model(sizes, "additive", bidirectional=False), batches, steps
        ),
        "luong_general_no_feeding": lambda: train_seconds(
            bahdanau_model(sizes, "general", input_feeding=False), batches, steps
        ),
        "luong_general_feeding": lambda: train_seconds(
            bahdanau_model(sizes, "general"), batches, steps
        ),
    }
    for side in sides.values():
        side()  # warm up
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.repeats):
        for name, side in sides.items():
            times[name].append(side())
    report: dict = {}
    for name, seconds in times.items():
        rate = tokens_per_batch * steps / sorted(seconds)[len(seconds) // 2]
        report[f"{name}_tok_s"] = rate
        report[f"{name}_step_gflops"] = gflops[name]
        print(
            f"  {name:<24} {rate:>10,.0f} training tokens/s, {gflops[name]:.2f} GFLOP a step",
            flush=True,
        )
    for name in list(sides)[1:]:
        spread = ratio_spread(times[name], times["fixed_context"], f"{name}/fixed")
        flop_ratio = gflops["fixed_context"] / gflops[name]
        report[f"{name}_over_fixed"] = spread
        report[f"{name}_flop_ratio"] = flop_ratio
        print(
            f"  {name}/fixed_context speed {spread['median']:.3f} "
            f"[{spread['min']:.3f}-{spread['max']:.3f}], FLOP ratio {flop_ratio:.3f} "
            f"(efficiency {spread['median'] / flop_ratio:.2f})",
            flush=True,
        )
    spread = ratio_spread(times["attention"], times["attention_step_loop"], "attention")
    report["attention_over_step_loop"] = spread
    low, high = spread["min"], spread["max"]
    print(f"  attention/step-loop speed {spread['median']:.3f} [{low:.3f}-{high:.3f}]", flush=True)
    return report
