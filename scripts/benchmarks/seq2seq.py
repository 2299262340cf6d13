"""The seq2seq section: seq2seq training steps through seqlab's path against a plain loop,
scheduled sampling against teacher forcing, and greedy and beam-5 decoding in sentences/s."""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import torch
import torch.nn.functional as F

from benchmarks.common import plain_adam, seqlab_fit_seconds


def translation_batches(n_batches: int, batch: int, length: int) -> tuple[list[dict], int, int]:
    """Padded translation batches of source length ``length`` (the DESIGN.md setting: 50)."""
    import random

    from seqlab.data.pairs import EncodedPairs
    from seqlab.tasks.translation import generate_pairs
    from seqlab.text.vocab import Vocab

    pairs = generate_pairs(n_batches * batch, length, length, random.Random(0))
    source = Vocab.build(s for s, _ in pairs)
    target = Vocab.build(t for _, t in pairs)

    def flat(sentences: list[list[str]], vocab: Vocab) -> tuple[torch.Tensor, torch.Tensor]:
        ids = [vocab.encode(words) for words in sentences]
        offsets = torch.tensor([0, *itertools.accumulate(len(i) for i in ids)])
        return torch.tensor([i for row in ids for i in row]), offsets

    data = EncodedPairs(flat([s for s, _ in pairs], source), flat([t for _, t in pairs], target))
    batches = [data[list(range(i * batch, (i + 1) * batch))] for i in range(n_batches)]
    return batches, len(source), len(target)


def make_seq2seq(cell: str, vocab: tuple[int, int], attention: bool = False):
    from seqlab.models.encoder_decoder import Seq2Seq, Seq2SeqConfig

    torch.manual_seed(0)
    config = Seq2SeqConfig(
        cell=cell, embedding_size=128, hidden_size=256, attention=attention, bidirectional=attention
    )
    return Seq2Seq(vocab[0], vocab[1], config)


def seq2seq_plain(model, batches: list[dict], steps: int, ratio: float = 1.0) -> float:
    optimizer = plain_adam(model)
    start = time.perf_counter()
    for step in range(steps):
        b = batches[step % len(batches)]
        if ratio >= 1.0:
            logits = model(b["src"], b["src_lengths"], b["tgt_in"])
        else:
            logits = model.forward_sampled(b["src"], b["src_lengths"], b["tgt_in"], ratio)
        loss = F.cross_entropy(logits.flatten(0, 1), b["tgt_out"].flatten(), ignore_index=0)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def seq2seq_seqlab(model, batches: list[dict], steps: int, vocab: tuple[int, int]) -> float:

    from seqlab.config.training import TrainingConfig
    from seqlab.objectives.seq2seq import Seq2SeqObjective
    from seqlab.spec import SEQ2SEQ, TaskSpec
    from seqlab.text.vocab import Vocab

    spec = TaskSpec(
        name="translation",
        output=SEQ2SEQ,
        vocab_size=vocab[0],
        num_classes=vocab[1],
        source_vocab=Vocab([]),
        target_vocab=Vocab([]),
    )
    objective = Seq2SeqObjective(model, TrainingConfig(lr=1e-3), spec)
    loader = torch.utils.data.DataLoader(batches, batch_size=None, shuffle=False)
    return seqlab_fit_seconds(objective, loader, steps)


def bench_seq2seq(args: argparse.Namespace) -> dict:
    batches, *vocab = translation_batches(8, 128, 50)
    vocab_sizes = (vocab[0], vocab[1])
    steps = max(args.steps // 15, 4)
    report: dict = {}
    times: dict[str, list[float]] = {"seqlab": [], "plain": []}
    seq2seq_plain(make_seq2seq("gru", vocab_sizes), batches, 2)
    for _ in range(args.repeats):
        times["seqlab"].append(
            seq2seq_seqlab(make_seq2seq("gru", vocab_sizes), batches, steps, vocab_sizes)
        )
        times["plain"].append(seq2seq_plain(make_seq2seq("gru", vocab_sizes), batches, steps))
    ratio = statistics.median(times["plain"]) / statistics.median(times["seqlab"])
    report["teacher_forced_seqlab_over_plain"] = ratio
    print(
        f"  teacher-forced GRU seq2seq (H 256, B 128, length 50): seqlab/plain speed {ratio:.3f}",
        flush=True,
    )
    for cell, attention in (("gru", False), ("lstm", False), ("gru", True)):
        forced, sampled = [], []
        for _ in range(args.repeats):
            model = make_seq2seq(cell, vocab_sizes, attention)
            forced.append(seq2seq_plain(model, batches, steps))
            model = make_seq2seq(cell, vocab_sizes, attention)
            sampled.append(seq2seq_plain(model, batches, steps, 0.5))
        cost = statistics.median(sampled) / statistics.median(forced)
        name = f"{cell}_attention" if attention else cell
        report[f"scheduled_sampling_cost_{name}"] = cost
        print(
            f"  scheduled sampling (ratio 0.5) / teacher forcing, {cell.upper()} decoder"
            f"{' with attention' if attention else ''}: {cost:.2f}x time",
            flush=True,
        )
    from seqlab.models.search import beam_search, greedy_decode

    for attention in (False, True):
        model = make_seq2seq("gru", vocab_sizes, attention).eval()
        name = "attention" if attention else "fixed"
        for label, fn in (
            ("greedy", lambda m, b: greedy_decode(m, b["src"], b["src_lengths"])),
            ("beam5", lambda m, b: beam_search(m, b["src"], b["src_lengths"], 5)),
        ):
            fn(model, batches[0])
            start = time.perf_counter()
            for b in batches[:4]:
                fn(model, b)
            rate = 4 * 128 / (time.perf_counter() - start)
            report[f"{label}_{name}_sentences_per_s"] = rate
            print(
                f"  {label:<6} decoding, {name} GRU seq2seq: {rate:,.0f} sentences/s "
                f"(untrained model, up to 2x50+10 steps)",
                flush=True,
            )
    return report
