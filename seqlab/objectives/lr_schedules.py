"""Learning-rate schedules (training.lr_schedule): warmup, inverse square root, cosine, and
reduce-on-plateau, as PyTorch schedulers that the objectives step themselves (seqlab
optimises manually) and Lightning saves in checkpoints."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.optim.lr_scheduler import LambdaLR, LRScheduler, ReduceLROnPlateau

from seqlab.config.training import TrainingConfig


def lr_factor(cfg: TrainingConfig, total_steps: int | None) -> Callable[[int], float]:
    """step (optimizer steps done) -> multiplier of training.lr for the next step."""
    warmup, base = cfg.warmup_steps, cfg.lr

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if cfg.lr_schedule == "inverse_sqrt":
            return math.sqrt(warmup / (step + 1))
        if cfg.lr_schedule == "cosine":
            assert total_steps is not None
            progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
            cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
            return (cfg.min_lr + (base - cfg.min_lr) * cosine) / base
        return 1.0

    return factor


def build_scheduler(
    optimizer: torch.optim.Optimizer,
    cfg: TrainingConfig,
    total_steps: int | None,
    monitor_mode: str = "min",
) -> LRScheduler | ReduceLROnPlateau | None:
    """The scheduler for ``cfg``, or None when the rate stays constant."""
    if cfg.lr_schedule == "plateau":
        return ReduceLROnPlateau(
            optimizer,
            mode=monitor_mode,
            factor=cfg.plateau_factor,
            patience=cfg.plateau_patience,
            min_lr=cfg.min_lr,
        )
    if cfg.lr_schedule == "none" and not cfg.warmup_steps:
        return None
    return LambdaLR(optimizer, lr_factor(cfg, total_steps))
