"""Measure seqlab's training overhead against a plain PyTorch loop, side by side.

    python scripts/benchmark.py                 # every section (data, launchers, ddp: 2-3 min each)
    python scripts/benchmark.py --quick         # fewer steps, for a smoke test
    python scripts/benchmark.py --only seq2seq  # one section (see Sections below)

Sections
  overhead   milliseconds per step of the training loop itself (a tiny model): the plain
             loop, the smallest manual-optimisation LightningModule, and seqlab.
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
  data       a 1M-pair tsv file (scripts/make_large_tsv.py, Zipfian words from 200k forms per
             side, about 570k whitespace types; --data-lexicon 0 for the synthetic language):
             reading it, against reading, tokenizing (whitespace, word, sentencepiece),
             building vocabularies and encoding it as task=tsv does (a first run, which fills
             the encoded-data cache, and a second run, which reads it), and one epoch of
             training batches; seconds, phases and peak memory, each in its own process,
             3 interleaved rounds. Each round also makes a first run with the compiled token
             kernels turned off (SEQLAB_TOKEN_KERNEL=numpy): the numpy code's time against
             the kernels', side by side.
  precision  the plain fused LSTM/GRU loop in float32 and under bfloat16 autocast
             (bf16-mixed): tokens/s and the ratio.
  launchers  a 4-job sweep through Hydra's basic launcher (one job at a time, torch on both
             cores) and the joblib launcher (2 jobs side by side, 1 thread each): wall time
             and the speed-up.
  ddp        DDP on CPU: 2 processes (gloo, a core each) against 1 process (both cores) on
             the same model and global batch; training tokens/s and the ratio.
  gpu        (skipped without a CUDA GPU) on the card: raw cuDNN (nn.Embedding + nn.LSTM/GRU +
             nn.Linear in a plain loop) against seqlab's fused model in the same loop, seqlab's
             whole path (Lightning, trainer=gpu), the bare LightningModule and seqlab's
             explicit gate-level cells;
             float32 against 16-mixed and bf16-mixed autocast; tokens/s and ratios.

Runs alternate (a, b, a, b, ...) in rounds. Ratios are reported as the median over rounds
with the rounds' range and the best-of-N ratio beside it, and a warning is printed when the
range is wider than the effect measured (this machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# seqlab's default logging interval (configs/trainer/cpu.yaml), so the comparison is honest.
LOG_EVERY = int(
    next(
        line.split(":")[1].split("#")[0]
        for line in (ROOT / "configs/trainer/cpu.yaml").read_text().splitlines()
        if line.startswith("log_every_n_steps")
    )
)

from seqlab.models.recurrent import RecurrentConfig  # noqa: E402
from seqlab.models.rnn import RecurrentTagger  # noqa: E402
from seqlab.tasks.copy import generate_copy  # noqa: E402


def copy_data(n: int, delay: int) -> dict[str, torch.Tensor]:
    return generate_copy(n, delay, 10, 8, torch.Generator().manual_seed(0))


def make_model(cell: str, impl: str, hidden: int, embedding: int) -> RecurrentTagger:
    torch.manual_seed(0)
    config = RecurrentConfig(cell=cell, embedding_size=embedding, hidden_size=hidden, impl=impl)
    return RecurrentTagger(10, 9, config)


class FitTimer:
    """Times Lightning's training loop from on_train_start to on_train_end: the steady state,
    without trainer.fit's one-off setup (logger files, loop construction), which a plain
    loop does not have either."""

    def __init__(self) -> None:
        import lightning as L

        class _Callback(L.Callback):
            def on_train_start(inner, trainer, module) -> None:
                self.start = time.perf_counter()

            def on_train_end(inner, trainer, module) -> None:
                self.seconds = time.perf_counter() - self.start

        self.callback = _Callback()
        self.start = 0.0
        self.seconds = 0.0


def fit_seconds(objective, loader, steps: int, accelerator: str = "cpu") -> float:
    """Train ``objective`` for ``steps`` steps with seqlab's Trainer setup (TensorBoard and CSV
    loggers, seqlab's logging interval, no validation or checkpoints); return the seconds of
    the training loop (see FitTimer)."""
    import lightning as L
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    with TemporaryDirectory() as tmp:
        timer = FitTimer()
        trainer = L.Trainer(
            callbacks=[timer.callback],
            accelerator=accelerator,
            devices=1,
            max_steps=steps,
            max_epochs=-1,
            limit_val_batches=0,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            log_every_n_steps=LOG_EVERY,
            logger=[TensorBoardLogger(tmp, name="tb", version=""), CSVLogger(tmp, name="")],
        )
        trainer.fit(objective, train_dataloaders=loader)
    return timer.seconds


def plain_adam(model: torch.nn.Module) -> torch.optim.Optimizer:
    """The plain loops' optimizer: Adam with PyTorch's fused kernel, as seqlab builds it, so
    the ratios measure seqlab's loop and not a different optimizer implementation."""
    return torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)


def plain_loop(
    model: RecurrentTagger, data: dict[str, torch.Tensor], batch: int, steps: int
) -> float:
    """The reference: index a batch, forward, CE, backward, Adam. Returns seconds."""
    optimizer = plain_adam(model)
    inputs, targets = data["inputs"], data["targets"]
    n = inputs.size(0)
    start = time.perf_counter()
    order = torch.randperm(n)
    for step in range(steps):
        idx = order[(step * batch) % n : (step * batch) % n + batch]
        logits, _ = model(inputs[idx])
        loss = F.cross_entropy(logits.flatten(0, 1), targets[idx].flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def seqlab_path(
    model: RecurrentTagger,
    data: dict[str, torch.Tensor],
    batch: int,
    steps: int,
    accelerator: str = "cpu",
) -> float:
    """Train through seqlab's objective and Trainer setup. Returns seconds of the training
    loop (see FitTimer)."""

    from seqlab.config.training import TrainingConfig
    from seqlab.data.batching import batch_loader
    from seqlab.objectives.per_step import PerStepObjective
    from seqlab.spec import PER_STEP, TaskSpec

    spec = TaskSpec(
        name="copy",
        output=PER_STEP,
        vocab_size=10,
        num_classes=9,
        fixed_length=True,
        focus_metric="recall_acc",
    )
    objective = PerStepObjective(model, TrainingConfig(lr=1e-3), spec)
    return fit_seconds(objective, batch_loader(data, batch, shuffle=True), steps, accelerator)


def bare_lightning_path(
    model: RecurrentTagger,
    data: dict[str, torch.Tensor],
    batch: int,
    steps: int,
    accelerator: str = "cpu",
) -> float:
    """Lightning's floor: the smallest manual-optimisation LightningModule (forward, CE,
    manual_backward, step; no logging, no gradient norm) in the same Trainer setup."""
    import lightning as L

    from seqlab.data.batching import batch_loader

    class Bare(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.model = model
            self.automatic_optimization = False

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return plain_adam(self.model)

        def training_step(self, b: dict[str, torch.Tensor], batch_idx: int) -> None:
            logits, _ = self.model(b["inputs"])
            loss = F.cross_entropy(logits.flatten(0, 1), b["targets"].flatten())
            optimizer = self.optimizers()
            optimizer.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            optimizer.step()

    return fit_seconds(Bare(), batch_loader(data, batch, shuffle=True), steps, accelerator)


def ratio_spread(fast: list[float], slow: list[float], effect_name: str) -> dict:
    """Speed ratio of two sides timed in interleaved rounds (``fast[i]`` and ``slow[i]`` in
    the same round): the ratio slow/fast time per round, their median, min and max, the
    best-of-N ratio (min slow / min fast: noise only ever adds time, so best-of-N is the
    least noisy estimate), and a warning when the rounds' spread exceeds the effect being
    measured (|1 - median|): the ratio is then not trustworthy on this machine at this time."""
    per_round = [s / f for f, s in zip(fast, slow, strict=True)]
    median = statistics.median(per_round)
    spread = max(per_round) - min(per_round)
    report = {
        "median": median,
        "min": min(per_round),
        "max": max(per_round),
        "best_of_n": min(slow) / min(fast),
        "rounds": len(per_round),
        "noisy": spread > abs(1 - median),
    }
    if report["noisy"] and len(per_round) > 1:
        print(
            f"    warning: {effect_name}: the rounds' spread ({min(per_round):.3f}-"
            f"{max(per_round):.3f}) is larger than the effect (median {median:.3f}); rerun "
            f"with more --repeats or on a quieter machine",
            flush=True,
        )
    return report


def bench_overhead(args: argparse.Namespace) -> dict:
    """Per-step cost of the training loop itself: a model so small (hidden 8, 21 steps,
    batch 32) that its compute is ~1 ms, trained by the plain loop, by the bare Lightning
    module and by seqlab; the differences are milliseconds of loop per step."""
    data = copy_data(32 * 64, 1)
    steps = max(args.steps * 2, 60)
    times: dict[str, list[float]] = {"plain": [], "bare_lightning": [], "seqlab": []}
    paths = {"plain": plain_loop, "bare_lightning": bare_lightning_path, "seqlab": seqlab_path}
    seqlab_path(make_model("rnn", "fused", 8, 8), data, 32, 5)  # warm up
    for _ in range(args.repeats):
        for name, path in paths.items():
            times[name].append(path(make_model("rnn", "fused", 8, 8), data, 32, steps))
    ms = {name: 1e3 * statistics.median(v) / steps for name, v in times.items()}
    row = {
        "plain_ms_per_step": ms["plain"],
        "bare_lightning_ms_per_step": ms["bare_lightning"],
        "seqlab_ms_per_step": ms["seqlab"],
        "lightning_overhead_ms": ms["bare_lightning"] - ms["plain"],
        "seqlab_overhead_ms": ms["seqlab"] - ms["plain"],
    }
    print(
        f"  loop cost per step (tiny model): plain {ms['plain']:.3f} ms, bare Lightning "
        f"{ms['bare_lightning']:.3f} ms (+{row['lightning_overhead_ms']:.3f}), seqlab "
        f"{ms['seqlab']:.3f} ms (+{row['seqlab_overhead_ms']:.3f})",
        flush=True,
    )
    return row


def bench_perstep(args: argparse.Namespace) -> list[dict]:
    rows = []
    batch, delay = 128, 20
    data = copy_data(batch * 64, delay)
    tokens_per_step = batch * (delay + 20)
    for cell in ("rnn", "lstm", "gru"):
        for impl in ("fused", "explicit"):
            steps = args.steps if impl == "fused" else max(args.steps // 3, 10)
            # fused models also through the bare LightningModule: Lightning's own floor
            paths = {"seqlab": seqlab_path, "plain": plain_loop}
            if impl == "fused":
                paths["bare_lightning"] = bare_lightning_path
            times: dict[str, list[float]] = {name: [] for name in paths}
            seqlab_path(make_model(cell, impl, 128, 32), data, batch, 5)  # warm up
            for _ in range(args.repeats):
                for name, path in paths.items():
                    times[name].append(path(make_model(cell, impl, 128, 32), data, batch, steps))
            tps = {k: tokens_per_step * steps / statistics.median(v) for k, v in times.items()}
            spread = ratio_spread(times["seqlab"], times["plain"], f"{cell} {impl} seqlab/plain")
            row = {
                "cell": cell,
                "impl": impl,
                "hidden": 128,
                "seqlab_tok_s": tps["seqlab"],
                "plain_tok_s": tps["plain"],
                "ratio": spread["median"],
                "ratio_min": spread["min"],
                "ratio_max": spread["max"],
                "ratio_best_of_n": spread["best_of_n"],
            }
            bare = ""
            if "bare_lightning" in tps:
                row["bare_lightning_tok_s"] = tps["bare_lightning"]
                row["bare_lightning_ratio"] = tps["bare_lightning"] / tps["plain"]
                bare = f"   (bare Lightning / plain {row['bare_lightning_ratio']:.3f})"
            rows.append(row)
            print(
                f"  {cell:<5} {impl:<9} seqlab {row['seqlab_tok_s']:>10,.0f} tok/s   plain "
                f"{row['plain_tok_s']:>10,.0f} tok/s   ratio {row['ratio']:.3f} "
                f"[{row['ratio_min']:.3f}-{row['ratio_max']:.3f}, best-of-{args.repeats} "
                f"{row['ratio_best_of_n']:.3f}]{bare}",
                flush=True,
            )
    return rows


def onednn_matmul_gflops(size: int = 1024, repeats: int = 20) -> tuple[float, float]:
    """Peak of a square float32 GEMM through oneDNN (mkldnn linear) and through torch.mm."""
    a = torch.randn(size, size)
    b = torch.randn(size, size)
    a_dnn, b_dnn = a.to_mkldnn(), b.to_mkldnn()

    def best(fn) -> float:
        fn()
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            timings.append(time.perf_counter() - start)
        return 2 * size**3 / min(timings) / 1e9

    onednn = best(lambda: torch._C._nn.mkldnn_linear(a_dnn, b_dnn))
    mkl = best(lambda: torch.mm(a, b))
    return onednn, mkl


def lstm_train_tokens_per_s(
    hidden: int, embedding: int, batch: int, length: int, steps: int
) -> float:
    model = make_model("lstm", "fused", hidden, embedding)
    data = copy_data(batch * 8, length - 20)
    plain_loop(model, data, batch, 3)
    seconds = plain_loop(model, data, batch, steps)
    return batch * length * steps / seconds


def lstm_layer_tokens_per_s(
    hidden: int, embedding: int, batch: int, length: int, steps: int
) -> float:
    """nn.LSTM alone: forward and backward (input and weight gradients), no optimizer."""
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(embedding, hidden, batch_first=True)
    x = torch.randn(batch, length, embedding, requires_grad=True)
    grad = torch.randn(batch, length, hidden)

    def step() -> None:
        out, _ = lstm(x)
        out.backward(grad)

    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * length * steps / (time.perf_counter() - start)


def bench_peak(args: argparse.Namespace) -> dict:
    """Fused LSTM training at hidden 512 against the oneDNN GEMM peak, at batch 128 and 256:
    the whole training step (embedding, LSTM, output layer, CE, Adam) and nn.LSTM alone."""
    onednn, mkl = onednn_matmul_gflops()
    hidden, embedding, length = 512, 128, 50
    steps = max(args.steps // 10, 5)
    # forward GEMMs 8H(E+H) FLOPs per token; backward twice that (input and weight grads)
    flops_per_token = 24 * hidden * (embedding + hidden)
    row: dict = {"onednn_gflops": onednn, "mkl_mm_gflops": mkl, "hidden": hidden, "by_batch": []}
    print(f"  oneDNN sgemm peak {onednn:,.0f} GFLOP/s (torch.mm/MKL {mkl:,.0f})", flush=True)
    for batch in (128, 256):
        step_tps, layer_tps = [], []
        for _ in range(args.repeats):
            step_tps.append(lstm_train_tokens_per_s(hidden, embedding, batch, length, steps))
            layer_tps.append(lstm_layer_tokens_per_s(hidden, embedding, batch, length, steps))
        entry = {"batch": batch}
        for name, values in (("training_step", step_tps), ("lstm_layer", layer_tps)):
            tps = statistics.median(values)
            gflops = tps * flops_per_token / 1e9
            entry[name] = {
                "tok_s": tps,
                "gflops": gflops,
                "fraction_of_onednn_peak": gflops / onednn,
            }
        row["by_batch"].append(entry)
        print(
            f"  fused LSTM H=512 E=128 T=50 batch {batch}: training step "
            f"{entry['training_step']['tok_s']:,.0f} tok/s = "
            f"{100 * entry['training_step']['fraction_of_onednn_peak']:.1f}% of the peak; "
            f"nn.LSTM forward+backward alone {entry['lstm_layer']['tok_s']:,.0f} tok/s = "
            f"{100 * entry['lstm_layer']['fraction_of_onednn_peak']:.1f}%",
            flush=True,
        )
    return row


def allocator_child(threshold: int, hidden: int, steps: int) -> None:
    """Runs in a child process: apply the threshold, train, print JSON."""
    from seqlab.engine.runtime import set_malloc_thresholds

    if threshold:
        set_malloc_thresholds(threshold)
    tps = lstm_train_tokens_per_s(hidden, 32, 128, 120, steps)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tok_s": tps, "peak_rss_mb": peak}))


def bench_allocator(args: argparse.Namespace) -> list[dict]:
    rows = []
    for hidden in (128, 512):
        steps = args.steps if hidden == 128 else max(args.steps // 5, 5)
        results: dict[int, list[dict]] = {0: [], 1 << 30: []}
        for _ in range(args.repeats):
            for threshold in results:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--allocator-child",
                        str(threshold),
                        "--hidden",
                        str(hidden),
                        "--steps",
                        str(steps),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                    env=os.environ.copy(),
                )
                results[threshold].append(json.loads(out.stdout.strip().splitlines()[-1]))
        default = statistics.median(r["tok_s"] for r in results[0])
        raised = statistics.median(r["tok_s"] for r in results[1 << 30])
        row = {
            "hidden": hidden,
            "default_tok_s": default,
            "raised_tok_s": raised,
            "speedup": raised / default,
            "default_peak_mb": max(r["peak_rss_mb"] for r in results[0]),
            "raised_peak_mb": max(r["peak_rss_mb"] for r in results[1 << 30]),
        }
        rows.append(row)
        print(
            f"  LSTM H={hidden} T=120 B=128: glibc default {default:,.0f} tok/s "
            f"(peak {row['default_peak_mb']:.0f} MB), thresholds 1 GiB {raised:,.0f} tok/s "
            f"(peak {row['raised_peak_mb']:.0f} MB): {row['speedup']:.2f}x",
            flush=True,
        )
    return rows


def translation_batches(n_batches: int, batch: int, length: int) -> tuple[list[dict], int, int]:
    """Padded translation batches of source length ``length`` (the DESIGN.md setting: 50)."""
    import random

    from seqlab.data.pairs import EncodedPairs
    from seqlab.tasks.translation import generate_pairs
    from seqlab.text.vocab import Vocab

    pairs = generate_pairs(n_batches * batch, length, length, random.Random(0))
    source = Vocab.build(s for s, _ in pairs)
    target = Vocab.build(t for _, t in pairs)
    data = EncodedPairs(pairs, source, target)
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
    return fit_seconds(objective, loader, steps)


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


def data_child(kind: str, path: str) -> None:
    """Runs in a child process: one data measurement, printed as JSON. The runtime settings
    (allocator thresholds, threads) are those of a training run."""
    from seqlab.engine.runtime import RuntimeConfig, configure_runtime

    configure_runtime(RuntimeConfig())
    start = time.perf_counter()
    row: dict = {"kind": kind}
    if kind == "read":
        from seqlab.data.files import read_data_lines

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
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(row))


def run_data_child(kind: str, path: Path, cache: Path, numpy_only: bool = False) -> dict:
    env = {**os.environ, "SEQLAB_CACHE_DIR": str(cache)}
    if numpy_only:
        env["SEQLAB_TOKEN_KERNEL"] = "numpy"
    out = subprocess.run(
        [sys.executable, __file__, "--data-child", kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_data(args: argparse.Namespace) -> list[dict]:
    """Reading against a first run (no cache: reading, tokenizer training, tokenizing and
    encoding) and a cached run, per tokenizer, in rounds: read, first, cached, read, ... The
    ratio to reading leaves out tokenizer training (sentencepiece learning its pieces, a
    model fit whose cost depends on the sample, not on the corpus size) and is also given with
    it."""
    pairs = 50_000 if args.quick else 1_000_000
    rounds = 1 if args.quick else 3
    rows = []
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.tsv"
        script = ROOT / "scripts" / "make_large_tsv.py"
        corpus = [str(path), "--pairs", str(pairs), "--lexicon", str(args.data_lexicon)]
        subprocess.run([sys.executable, str(script), *corpus], check=True)
        with path.open(encoding="utf-8") as full, Path(f"{path}.small").open("w") as small:
            small.writelines(line for _, line in zip(range(1000), full, strict=False))
        size_mb = path.stat().st_size / 1e6
        from seqlab.tasks import kernels

        compiled = kernels.compiled is not None
        print(f"  tokenizing with {kernels.describe()}", flush=True)
        runs_measured = ["first run", "cached", *(["first run, numpy"] if compiled else [])]
        for kind in ("whitespace", "word", "sentencepiece"):
            measured: dict[str, list[dict]] = {"read": [], **{run: [] for run in runs_measured}}
            for round_ in range(rounds):
                cache = Path(tmp) / f"cache-{kind}-{round_}"
                measured["read"].append(run_data_child("read", path, cache))
                measured["first run"].append(run_data_child(kind, path, cache))
                measured["cached"].append(run_data_child(kind, path, cache))
                if compiled:  # the same first run without the kernels (a cache of its own)
                    numpy_cache = Path(tmp) / f"cache-{kind}-{round_}-numpy"
                    row = run_data_child(kind, path, numpy_cache, numpy_only=True)
                    measured["first run, numpy"].append(row)
            reads = [row["seconds"] for row in measured["read"]]
            if compiled:
                without = [
                    (numpy["setup_s"] - numpy["phases_s"].get("tokenizers", 0.0))
                    / (first["setup_s"] - first["phases_s"].get("tokenizers", 0.0))
                    for numpy, first in zip(
                        measured["first run, numpy"], measured["first run"], strict=True
                    )
                ]
                rows.append(
                    {
                        "kind": kind,
                        "run": "kernels against numpy",
                        "numpy_over_kernels": sorted(without)[len(without) // 2],
                        "numpy_over_kernels_range": [min(without), max(without)],
                    }
                )
                print(
                    f"  {kind:<13} first run without tokenizer training: the numpy code takes "
                    f"{rows[-1]['numpy_over_kernels']:.2f}x the kernels' time "
                    f"[{min(without):.2f}-{max(without):.2f}] (rounds interleaved)",
                    flush=True,
                )
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
                    "times_reading": sorted(without_training)[len(runs) // 2],
                    "times_reading_range": [min(without_training), max(without_training)],
                    "times_reading_with_training": sorted(with_training)[len(runs) // 2],
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                    "read_peak_rss_mb": max(r["peak_rss_mb"] for r in measured["read"]),
                    "vocab": runs[0]["vocab"],
                    "epoch_of_batches_s": [r["epoch_of_batches_s"] for r in runs],
                    "epoch_times_reading": sorted(
                        row["epoch_of_batches_s"] / read
                        for row, read in zip(runs, reads, strict=True)
                    )[len(runs) // 2],
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
                    f"  {pairs:,} pairs, {size_mb:.0f} MB, {kind:<13} {run:<16} "
                    f"setup {sorted(row['setup_s'])[len(runs) // 2]:6.1f} s = "
                    f"{row['times_reading']:4.1f}x reading [{low:.1f}-{high:.1f}] without "
                    f"tokenizer training, {row['times_reading_with_training']:4.1f}x with "
                    f"(reading {sorted(reads)[len(reads) // 2]:.1f} s; {detail}); "
                    f"peak {row['peak_rss_mb']:,.0f} MB (reading {row['read_peak_rss_mb']:,.0f})"
                    f"; vocab {row['vocab'][0]:,}/{row['vocab'][1]:,}; an epoch of "
                    f"{runs[0]['batches']:,} batches "
                    f"{sorted(row['epoch_of_batches_s'])[len(runs) // 2]:.1f} s = "
                    f"{row['epoch_times_reading']:.1f}x reading",
                    flush=True,
                )
    return rows


def bench_precision(args: argparse.Namespace) -> list[dict]:
    """The plain loop in float32 and under bfloat16 autocast (trainer.precision=bf16-mixed
    does the same around each training step), interleaved rounds."""
    rows = []
    batch, delay = 128, 20
    data = copy_data(batch * 32, delay)
    tokens = batch * (delay + 20) * args.steps

    def bf16_loop(model: RecurrentTagger) -> float:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return plain_loop(model, data, batch, args.steps)

    for cell in ("lstm", "gru"):
        times: dict[str, list[float]] = {"fp32": [], "bf16": []}
        plain_loop(make_model(cell, "fused", 128, 32), data, batch, 5)  # warm up
        for _ in range(args.repeats):
            times["fp32"].append(
                plain_loop(make_model(cell, "fused", 128, 32), data, batch, args.steps)
            )
            times["bf16"].append(bf16_loop(make_model(cell, "fused", 128, 32)))
        spread = ratio_spread(times["bf16"], times["fp32"], f"{cell} bf16/fp32 speed")
        row = {
            "cell": cell,
            "fp32_tok_s": tokens / statistics.median(times["fp32"]),
            "bf16_tok_s": tokens / statistics.median(times["bf16"]),
            "bf16_speed_ratio": spread["median"],
            "ratio_min": spread["min"],
            "ratio_max": spread["max"],
        }
        rows.append(row)
        print(
            f"  {cell:<5} fp32 {row['fp32_tok_s']:>10,.0f} tok/s   bf16-mixed "
            f"{row['bf16_tok_s']:>10,.0f} tok/s   bf16/fp32 speed {row['bf16_speed_ratio']:.3f} "
            f"[{row['ratio_min']:.3f}-{row['ratio_max']:.3f}]",
            flush=True,
        )
    return rows


LAUNCHER_SWEEP = [
    "-m",
    "model=vanilla,gru",
    "seed=1,2",
    "task=copy",
    "task.n_train=6400",
    "task.n_val=256",
    "task.n_test=256",
    "task.batch_size=64",
    "model.hidden_size=64",
    "trainer.max_steps=400",
    "callbacks.stop_when_solved=false",
    "trainer.enable_progress_bar=false",
]


def sweep_seconds(launcher: list[str], sweep_dir: Path) -> float:
    """Wall time of ``python -m seqlab.train`` running LAUNCHER_SWEEP's 4 jobs."""
    env = {**os.environ, "CI": "true"}
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "seqlab.train",
            *LAUNCHER_SWEEP,
            *launcher,
            f"hydra.sweep.dir={sweep_dir}",
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    return time.perf_counter() - started


def bench_launchers(args: argparse.Namespace) -> dict:
    """A 4-job sweep (vanilla and GRU x 2 seeds, 400 updates each): Hydra's basic launcher
    (one job at a time, torch on every core) against the joblib launcher with 2 jobs side by
    side (cores split between them, runtime.threads), interleaved rounds."""
    sides = {
        "basic": [],
        "joblib": ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
    }
    times: dict[str, list[float]] = {name: [] for name in sides}
    with TemporaryDirectory() as tmp:
        for round_ in range(max(args.repeats - 1, 1)):
            for name, launcher in sides.items():
                seconds = sweep_seconds(launcher, Path(tmp) / f"{name}_{round_}")
                times[name].append(seconds)
                print(f"  round {round_}: {name:<7} {seconds:6.1f} s", flush=True)
    spread = ratio_spread(times["joblib"], times["basic"], "basic/joblib sweep time")
    print(
        f"  4-job sweep: basic {statistics.median(times['basic']):.1f} s, joblib x2 "
        f"{statistics.median(times['joblib']):.1f} s; speed-up {spread['median']:.2f}x "
        f"[{spread['min']:.2f}-{spread['max']:.2f}, best-of-{spread['rounds']} "
        f"{spread['best_of_n']:.2f}]",
        flush=True,
    )
    return {"seconds": times, "speedup": spread}


GPU_HIDDEN, GPU_EMBEDDING = 512, 128


class CudnnTagger(torch.nn.Module):
    """The raw-cuDNN reference: nn.Embedding + nn.LSTM/GRU + nn.Linear, nothing of seqlab's."""

    def __init__(self, cell: str, hidden: int, embedding: int) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embedding = torch.nn.Embedding(10, embedding)
        rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
        self.rnn = rnn(embedding, hidden, batch_first=True)
        self.head = torch.nn.Linear(hidden, 9)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, None]:
        outputs, _ = self.rnn(self.embedding(tokens))
        return self.head(outputs), None


def gpu_loop(
    model: torch.nn.Module,
    data: dict[str, torch.Tensor],
    batch: int,
    steps: int,
    precision: str = "32-true",
) -> float:
    """The plain loop on the GPU: each batch copied from host memory (as a DataLoader's batch
    is), forward under the precision's autocast, CE, backward (scaled for 16-mixed), Adam.
    Returns seconds, synchronised."""
    device = torch.device("cuda")
    model.to(device)
    optimizer = plain_adam(model)
    dtype = {"16-mixed": torch.float16, "bf16-mixed": torch.bfloat16}.get(precision)
    scaler = torch.amp.GradScaler("cuda", enabled=precision == "16-mixed")
    inputs, targets = data["inputs"].pin_memory(), data["targets"].pin_memory()
    n = inputs.size(0)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for step in range(steps):
        lo = (step * batch) % n
        x = inputs[lo : lo + batch].to(device, non_blocking=True)
        y = targets[lo : lo + batch].to(device, non_blocking=True)
        with torch.autocast("cuda", dtype=dtype or torch.float32, enabled=dtype is not None):
            logits, _ = model(x)
            loss = F.cross_entropy(logits.flatten(0, 1).float(), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def gpu_sides(
    cell: str, data: dict[str, torch.Tensor], batch: int, steps: int
) -> dict[str, Callable[[], float]]:
    """The sides of the gpu section for one cell, each a call returning seconds for ``steps``
    steps (the explicit cells run a fifth of the steps, scaled up: they are slow)."""
    hidden, embedding = GPU_HIDDEN, GPU_EMBEDDING
    return {
        "cudnn": lambda: gpu_loop(CudnnTagger(cell, hidden, embedding), data, batch, steps),
        "seqlab_fused": lambda: gpu_loop(
            make_model(cell, "fused", hidden, embedding), data, batch, steps
        ),
        "seqlab_path": lambda: seqlab_path(
            make_model(cell, "fused", hidden, embedding), data, batch, steps, "gpu"
        ),
        "bare_lightning": lambda: bare_lightning_path(
            make_model(cell, "fused", hidden, embedding), data, batch, steps, "gpu"
        ),
        "seqlab_explicit": lambda: (
            gpu_loop(
                make_model(cell, "explicit", hidden, embedding),
                data,
                batch,
                max(steps // 5, 10),
            )
            * 5
        ),
        "cudnn_16_mixed": lambda: gpu_loop(
            CudnnTagger(cell, hidden, embedding), data, batch, steps, "16-mixed"
        ),
        "cudnn_bf16_mixed": lambda: gpu_loop(
            CudnnTagger(cell, hidden, embedding), data, batch, steps, "bf16-mixed"
        ),
    }


def bench_gpu(args: argparse.Namespace) -> dict:
    """On the GPU, interleaved rounds at hidden 512, embedding 128, batch 256, length 100:
    raw cuDNN against seqlab's fused model (same loop), seqlab's whole path (Lightning,
    trainer=gpu, its logging), the smallest LightningModule (Lightning's own floor) and
    seqlab's explicit cells; and precisions for raw cuDNN."""
    if not torch.cuda.is_available():
        print("  skipped: PyTorch sees no CUDA GPU on this machine", flush=True)
        return {}
    card = torch.cuda.get_device_name()
    print(f"  card: {card}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
    batch, delay, hidden = 256, 80, GPU_HIDDEN
    data = copy_data(batch * 32, delay)
    tokens_per_step = batch * (delay + 20)
    steps = max(args.steps, 50)
    rows = []
    for cell in ("lstm", "gru"):
        sides = gpu_sides(cell, data, batch, steps)
        for side in sides.values():  # warm up (cuDNN plans, Lightning imports)
            side()
        times: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(args.repeats):
            for name, side in sides.items():
                times[name].append(side())
        row: dict = {"cell": cell, "card": card, "hidden": hidden, "batch": batch}
        for name, seconds in times.items():
            row[f"{name}_tok_s"] = tokens_per_step * steps / statistics.median(seconds)
        for name in sides:
            if name == "cudnn":
                continue
            spread = ratio_spread(times["cudnn"], times[name], f"{cell} {name}/cudnn")
            row[f"{name}_over_cudnn"] = 1 / spread["median"]
            row[f"{name}_over_cudnn_range"] = [1 / spread["max"], 1 / spread["min"]]
        rows.append(row)
        for name in sides:
            ratio = (
                ""
                if name == "cudnn"
                else f"   /cuDNN {row[f'{name}_over_cudnn']:.3f} "
                f"[{row[f'{name}_over_cudnn_range'][0]:.3f}-"
                f"{row[f'{name}_over_cudnn_range'][1]:.3f}]"
            )
            print(f"  {cell:<5} {name:<17} {row[f'{name}_tok_s']:>12,.0f} tok/s{ratio}", flush=True)
    return {"card": card, "rows": rows}


DDP_RUN = [
    "model=lstm",
    "task=copy",
    "task.n_train=25600",
    "task.n_val=256",
    "task.n_test=256",
    "task.delay=40",
    "model.hidden_size=256",
    "trainer.max_steps=150",
    "trainer.limit_val_batches=0",
    "callbacks.stop_when_solved=false",
    "trainer.enable_progress_bar=false",
]


def ddp_tokens_per_s(processes: int, global_batch: int, run_dir: Path) -> float:
    """Training tokens/s (results.json, all ranks) of ``python -m seqlab.train`` on DDP_RUN
    with ``processes`` processes sharing ``global_batch`` sequences per optimizer step."""
    env = {**os.environ, "CI": "true"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "seqlab.train",
            *DDP_RUN,
            f"trainer.devices={processes}",
            f"task.batch_size={global_batch // processes}",
            f"hydra.run.dir={run_dir}",
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    return json.loads((run_dir / "results.json").read_text())["train_tokens_per_s"]


def bench_ddp(args: argparse.Namespace) -> dict:
    """DDP on CPU: 2 processes (gloo, 1 thread each, batch 64 each) against 1 process (2
    threads, batch 128), the same model (LSTM, hidden 256, copy T = 60) and global batch,
    150 optimizer steps; training tokens/s of all ranks, interleaved rounds."""
    sides = {"one_process": 1, "two_processes": 2}
    rates: dict[str, list[float]] = {name: [] for name in sides}
    with TemporaryDirectory() as tmp:
        for round_ in range(max(args.repeats - 2, 1)):
            for name, n in sides.items():
                rate = ddp_tokens_per_s(n, 128, Path(tmp) / f"{name}_{round_}")
                rates[name].append(rate)
                print(f"  round {round_}: {name:<14} {rate:10,.0f} tok/s", flush=True)
    # ratio_spread takes times; a rate is an inverse time
    spread = ratio_spread(
        [1 / r for r in rates["two_processes"]],
        [1 / r for r in rates["one_process"]],
        "2-process/1-process throughput",
    )
    print(
        f"  DDP 2 processes / 1 process, same global batch: {spread['median']:.2f}x "
        f"[{spread['min']:.2f}-{spread['max']:.2f}, best-of-{spread['rounds']} "
        f"{spread['best_of_n']:.2f}]",
        flush=True,
    )
    return {"tokens_per_s": rates, "ratio": spread}


SECTIONS = (
    "overhead",
    "perstep",
    "peak",
    "allocator",
    "seq2seq",
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
        "--default-malloc",
        action="store_true",
        help="keep glibc's malloc thresholds (seqlab raises them at startup)",
    )
    parser.add_argument("--allocator-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data-child", nargs=2, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--hidden", type=int, default=128, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.allocator_child is not None:
        allocator_child(args.allocator_child, args.hidden, args.steps)
        return
    if args.data_child is not None:
        data_child(*args.data_child)
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
            "overhead": bench_overhead,
            "perstep": bench_perstep,
            "peak": bench_peak,
            "allocator": bench_allocator,
            "seq2seq": bench_seq2seq,
            "data": bench_data,
            "precision": bench_precision,
            "launchers": bench_launchers,
            "ddp": bench_ddp,
            "gpu": bench_gpu,
        }[section](args)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
