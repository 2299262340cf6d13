"""The lm section: a character-level LSTM language model at the language_model experiment's
sizes (embedding 128, one layer of 512, 32 streams, windows of 100, 68 symbols) trained with
stateful truncated BPTT through seqlab's path (Lightning + LanguageModelObjective + the
stream loader + TensorBoard/CSV logging) and through a plain PyTorch loop over the same
streams; tokens/s of each and the ratio."""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from benchmarks.common import plain_adam, ratio_spread, seqlab_fit_seconds
from seqlab.config.training import TrainingConfig
from seqlab.data.streams import stream_layout, training_stream_loader
from seqlab.models.recurrent import detach_state
from seqlab.models.rnn import RecurrentTagger, RNNConfig
from seqlab.objectives.language_model import LanguageModelObjective
from seqlab.spec import NEXT_TOKEN, TaskSpec

VOCAB, STREAMS, WINDOW = 68, 32, 100


def make_model(cell: str) -> RecurrentTagger:
    torch.manual_seed(0)
    config = RNNConfig(cell=cell, embedding_size=128, hidden_size=512)
    return RecurrentTagger(VOCAB, VOCAB, config)


def plain_loop(model: RecurrentTagger, ids: torch.Tensor, steps: int) -> float:
    """The reference: windows of the same streams, state carried and detached, CE,
    backward, Adam. Returns seconds."""
    optimizer = plain_adam(model)
    inputs, targets = stream_layout(ids, STREAMS)
    start = time.perf_counter()
    state = None
    for step in range(steps):
        s = step * WINDOW % (inputs.size(1) - WINDOW)
        logits, state = model(inputs[:, s : s + WINDOW], state=state)
        loss = F.cross_entropy(logits.flatten(0, 1), targets[:, s : s + WINDOW].flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        state = detach_state(state)
    return time.perf_counter() - start


def seqlab_lm_path(model: RecurrentTagger, ids: torch.Tensor, steps: int) -> float:
    spec = TaskSpec(
        name="lm", output=NEXT_TOKEN, vocab_size=VOCAB, num_classes=VOCAB, stateful=True
    )
    objective = LanguageModelObjective(model, TrainingConfig(lr=1e-3, tbptt_steps=WINDOW), spec)
    loader = training_stream_loader(ids, STREAMS, WINDOW, random_length=False)
    return seqlab_fit_seconds(objective, loader, steps)


def bench_lm(args: argparse.Namespace) -> list[dict]:
    steps = max(args.steps // 5, 10)
    ids = torch.randint(
        4, VOCAB, (STREAMS * WINDOW * (steps + 2) + 1,), generator=torch.Generator().manual_seed(0)
    )
    rows = []
    for cell in ("lstm", "gru", "rnn"):
        seqlab_lm_path(make_model(cell), ids, 3)  # warm up
        times: dict[str, list[float]] = {"seqlab": [], "plain": []}
        for _ in range(args.repeats):
            times["plain"].append(plain_loop(make_model(cell), ids, steps))
            times["seqlab"].append(seqlab_lm_path(make_model(cell), ids, steps))
        tokens = STREAMS * WINDOW * steps
        tps = {k: tokens / statistics.median(v) for k, v in times.items()}
        spread = ratio_spread(times["seqlab"], times["plain"], f"lm {cell} seqlab/plain")
        row = {
            "cell": cell,
            "hidden": 512,
            "steps": steps,
            "seqlab_tok_s": tps["seqlab"],
            "plain_tok_s": tps["plain"],
            "ratio": spread["median"],
            "ratio_min": spread["min"],
            "ratio_max": spread["max"],
            "ratio_best_of_n": spread["best_of_n"],
        }
        rows.append(row)
        print(
            f"  {cell:<5} seqlab {row['seqlab_tok_s']:>9,.0f} tok/s   plain "
            f"{row['plain_tok_s']:>9,.0f} tok/s   ratio {row['ratio']:.3f} "
            f"[{row['ratio_min']:.3f}-{row['ratio_max']:.3f}, best-of-{args.repeats} "
            f"{row['ratio_best_of_n']:.3f}]",
            flush=True,
        )
    return rows
