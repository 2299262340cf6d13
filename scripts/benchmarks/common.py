"""What the benchmark sections share: the copy data and models, seqlab's training path, a
plain PyTorch loop, a bare LightningModule, and the ratio report (median, range, best-of-N and
the noise warning)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "benchmark.py"  # child processes run the command again
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
    """Times Lightning's training loop from the start of its first training batch to the end
    of the batch that reaches trainer.max_steps (or to on_train_end): the steps, epoch ends
    included, without trainer.fit's set-up and tear-down (logger files, loop construction,
    the last checkpoint written at the end), which a plain loop does not have either. On a
    GPU both ends wait for the device, as the plain loops do, so the time is the work's and
    not the queue's. Put its callback last: its batch end then counts the other callbacks'."""

    def __init__(self) -> None:
        import lightning as L

        def now(module: L.LightningModule) -> float:
            if module.device.type == "cuda":
                torch.cuda.synchronize(module.device)
            return time.perf_counter()

        class _Callback(L.Callback):
            def on_train_batch_start(inner, trainer, module, batch, batch_idx) -> None:
                if self.start is None:
                    self.start = now(module)

            def on_train_batch_end(inner, trainer, module, outputs, batch, batch_idx) -> None:
                if self.seconds is None and 0 < trainer.max_steps <= trainer.global_step:
                    self.seconds = now(module) - self.start

            def on_train_end(inner, trainer, module) -> None:
                if self.seconds is None and self.start is not None:
                    self.seconds = now(module) - self.start

        self.callback = _Callback()
        self.start: float | None = None
        self.seconds: float | None = None


def fit_seconds(objective, loader, steps: int, accelerator: str = "cpu") -> float:
    """Train ``objective`` (the bare LightningModule) for ``steps`` steps in a plain Lightning
    Trainer with seqlab's logging interval and the same two loggers (TensorBoard, CSV), no
    validation or checkpoints; return the seconds of the training loop (see FitTimer)."""
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
    assert timer.seconds is not None, "the training loop ran no batch"
    return timer.seconds


def seqlab_fit_seconds(objective, loader, steps: int, accelerator: str = "cpu") -> float:
    """Train a seqlab objective for ``steps`` steps in the Trainer ``python -m seqlab.train``
    builds: seqlab's trainer options (logging interval, no sanity check), its callbacks (best
    and resumable checkpoints, throughput, progress lines, batches on the device, ...), its
    loggers and checkpoint IO, as a run whose output is piped (no progress bar); without the
    validation, which a plain loop does not have either. Returns the seconds of the training
    loop (see FitTimer)."""
    import warnings

    from seqlab.engine.callbacks import CallbacksConfig, build_callbacks
    from seqlab.engine.distributed import KeepGeneratorsAcrossDdpSetup
    from seqlab.engine.trainer import build_trainer
    from seqlab.reporting.loggers import build_loggers

    options = {
        "_target_": "lightning.pytorch.Trainer",
        "accelerator": accelerator,
        "devices": 1,
        "max_steps": steps,
        "max_epochs": -1,
        "limit_val_batches": 0,
        "log_every_n_steps": LOG_EVERY,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
    }
    with TemporaryDirectory() as tmp:
        timer = FitTimer()
        run_dir = Path(tmp)
        callbacks = build_callbacks(CallbacksConfig(), objective.spec, run_dir).all
        callbacks += [KeepGeneratorsAcrossDdpSetup(), timer.callback]
        trainer = build_trainer(options, run_dir, callbacks, list(build_loggers(run_dir)))
        with warnings.catch_warnings():  # the best checkpoint's val/ce: no validation here
            warnings.filterwarnings("ignore", message=".*could not find the monitored key")
            trainer.fit(objective, train_dataloaders=loader)
    assert timer.seconds is not None, "the training loop ran no batch"
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
    """Train through seqlab's objective in seqlab's Trainer (see seqlab_fit_seconds). Returns
    seconds of the training loop (see FitTimer)."""

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
    loader = batch_loader(data, batch, shuffle=True)
    return seqlab_fit_seconds(objective, loader, steps, accelerator)


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
