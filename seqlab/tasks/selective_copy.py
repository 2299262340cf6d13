"""Selective copying (Gu & Dao 2023, the Mamba paper's variant of copying memory): the K
symbols to recall are scattered at random positions among blanks, so a model must decide at
each input whether to store it; a fixed delay, as in copy, lets a model merely count.

Alphabet as copy's: 0 blank, 1..A data symbols, A+1 delimiter. Input of length T + 2K: K
symbols at random positions (in order, each sequence its own) of the first T + K - 1, blanks
elsewhere, then the delimiter and K blanks. Target: blanks, then the K symbols in the order
they came. Metrics and memoryless baseline as copy's: recall_acc at the K recall positions,
seq_acc, and K·ln(A) / (T + 2K).
"""

from __future__ import annotations

from dataclasses import dataclass

import lightning as L
import torch

from seqlab.spec import PER_STEP, Batch
from seqlab.tasks.copy import CopyConfig, CopyDataModule, recall_batch


@dataclass
class SelectiveCopyConfig(CopyConfig):
    """selective_copy: delay (T), n_recall (K), alphabet (A), split sizes, batch_size and
    data_seed as copy's (the seq2seq lengths of copy do not apply: a per-step task only)."""

    _target_: str = "seqlab.tasks.selective_copy.SelectiveCopyConfig"
    name: str = "selective_copy"

    offers = (PER_STEP,)

    def build(self, output: str) -> L.LightningDataModule:
        return SelectiveCopyDataModule(self)


def generate_selective_copy(
    n: int, delay: int, n_recall: int, alphabet: int, generator: torch.Generator
) -> Batch:
    """n selective-copy examples: inputs, targets (n, T+2K) long, focus (n, T+2K) bool."""
    if delay < 1 or n_recall < 1 or alphabet < 2:
        raise ValueError("selective copy needs delay >= 1, n_recall >= 1 and alphabet >= 2")
    length = delay + 2 * n_recall
    region = delay + n_recall - 1  # where the symbols are scattered
    symbols = torch.randint(1, alphabet + 1, (n, n_recall), generator=generator)
    order = torch.rand(n, region, generator=generator).argsort(dim=1)
    positions = order[:, :n_recall].sort(dim=1).values  # K distinct positions, in order
    inputs = torch.zeros(n, length, dtype=torch.long)
    inputs.scatter_(1, positions, symbols)
    inputs[:, region] = alphabet + 1  # the delimiter
    return recall_batch(inputs, symbols)


class SelectiveCopyDataModule(CopyDataModule):
    """Selective-copy data, generated once per split from disjoint seeds."""

    generate = staticmethod(generate_selective_copy)


# The schemas this module declares, stored in Hydra's ConfigStore by
# seqlab.engine.run_config.register_schemas as schema/task/<name>.
SCHEMAS = {"selective_copy": SelectiveCopyConfig}
