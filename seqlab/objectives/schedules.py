"""Teacher-forcing ratio schedules of scheduled sampling (Bengio et al. 2015).

ε_i is the probability of feeding the true previous token at training iteration i.
"""

from __future__ import annotations

import math

from seqlab.config.training import ScheduledSamplingConfig


def teacher_forcing_ratio(step: int, base_ratio: float, cfg: ScheduledSamplingConfig) -> float:
    """constant: ε = base_ratio (training.teacher_forcing);
    linear: max(min_ratio, k − c·i); exponential: max(min_ratio, k^i), k < 1;
    inverse_sigmoid: max(min_ratio, k / (k + exp(i / k))), k ≥ 1."""
    if cfg.schedule == "constant":
        return base_ratio
    if cfg.schedule == "linear":
        value = cfg.k - cfg.c * step
    elif cfg.schedule == "exponential":
        value = cfg.k**step
    else:
        exponent = step / cfg.k
        value = 0.0 if exponent > 700 else cfg.k / (cfg.k + math.exp(exponent))
    return min(1.0, max(cfg.min_ratio, value))
