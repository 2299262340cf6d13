"""The copying-memory problem (Arjovsky, Shah & Bengio 2016, §4.1), and its seq2seq variant.

Per-step form. Alphabet: 0 blank, 1..A data symbols, A+1 delimiter. Input of length T + 2K:
K symbols drawn uniformly from 1..A, T-1 blanks, the delimiter, K blanks. Target: T + K
blanks, then the K symbols. The paper's setting is A = 8, K = 10. Loss: cross-entropy over all
T + 2K steps. A model with no memory can at best output the blank exactly where it belongs and
a uniform guess over A symbols at the K recall positions, so its cross-entropy is
K·ln(A) / (T + 2K).

Seq2seq form: source = L random symbols (L drawn per sentence from a range), target = the same
symbols; exact match and BLEU by length expose the fixed-context bottleneck.
"""

from __future__ import annotations

import math

import torch

from seqlab.tasks.base import (
    PER_STEP,
    Batch,
    TaskSpec,
    TensorSplitsDataModule,
    require_at_least_one,
    split_generators,
)
from seqlab.tasks.seq2seq_data import Pair, Seq2SeqDataModule


def memoryless_baseline_ce(delay: int, n_recall: int, alphabet: int) -> float:
    """Cross-entropy of the best model without memory: K·ln(A) / (T + 2K)."""
    return n_recall * math.log(alphabet) / (delay + 2 * n_recall)


def generate_copy(
    n: int, delay: int, n_recall: int, alphabet: int, generator: torch.Generator
) -> Batch:
    """n copying-memory examples, vectorised.

    Returns inputs (n, T+2K) long, targets (n, T+2K) long, focus (n, T+2K) bool (the K
    positions where the symbols must be recalled).
    """
    if delay < 1 or n_recall < 1 or alphabet < 2:
        raise ValueError("copy task needs delay >= 1, n_recall >= 1 and alphabet >= 2")
    length = delay + 2 * n_recall
    symbols = torch.randint(1, alphabet + 1, (n, n_recall), generator=generator)
    inputs = torch.zeros(n, length, dtype=torch.long)
    inputs[:, :n_recall] = symbols
    inputs[:, n_recall + delay - 1] = alphabet + 1  # the delimiter
    targets = torch.zeros(n, length, dtype=torch.long)
    targets[:, -n_recall:] = symbols
    focus = torch.zeros(n, length, dtype=torch.bool)
    focus[:, -n_recall:] = True
    return {"inputs": inputs, "targets": targets, "focus": focus}


class CopyDataModule(TensorSplitsDataModule):
    """Copying-memory data, generated once per split from disjoint seeds."""

    def __init__(
        self,
        delay: int = 10,
        n_recall: int = 10,
        alphabet: int = 8,
        n_train: int = 20000,
        n_val: int = 1000,
        n_test: int = 2000,
        batch_size: int = 128,
        data_seed: int = 0,
        seq2seq: dict | None = None,
    ) -> None:
        """``seq2seq`` holds the lengths of the seq2seq variant; unused here."""
        super().__init__()
        require_at_least_one(
            delay=delay,
            n_recall=n_recall,
            n_train=n_train,
            n_val=n_val,
            n_test=n_test,
            batch_size=batch_size,
        )
        if alphabet < 2:
            raise ValueError(f"task.alphabet must be >= 2, got {alphabet}")
        self.delay, self.n_recall, self.alphabet = delay, n_recall, alphabet
        self.sizes = {"train": n_train, "val": n_val, "test": n_test}
        self.batch_size = batch_size
        self.data_seed = data_seed
        self.splits: dict[str, Batch] = {}
        self.spec = TaskSpec(
            name="copy",
            output=PER_STEP,
            vocab_size=alphabet + 2,
            num_classes=alphabet + 1,
            fixed_length=True,
            focus_metric="recall_acc",
            baseline_ce=memoryless_baseline_ce(delay, n_recall, alphabet),
            extra={"sequence_length": delay + 2 * n_recall},
        )

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        generators = split_generators(self.data_seed)
        for split, n in self.sizes.items():
            self.splits[split] = generate_copy(
                n, self.delay, self.n_recall, self.alphabet, generators[split]
            )


class Seq2SeqCopyDataModule(Seq2SeqDataModule):
    """Seq2seq copy: source = L random symbols (L uniform on a range), target = the same.

    Symbols are the words ``s1`` .. ``sA``. Training / validation lengths come from
    ``seq2seq.min_len``..``seq2seq.max_len``, test lengths from ``seq2seq.test_min_len``..
    ``seq2seq.test_max_len``. The per-step keys (delay, n_recall) are not used.
    """

    task_name = "copy"

    def __init__(
        self,
        alphabet: int = 8,
        n_train: int = 20000,
        n_val: int = 1000,
        n_test: int = 2000,
        batch_size: int = 128,
        data_seed: int = 0,
        seq2seq: dict | None = None,
        delay: int | None = None,
        n_recall: int | None = None,
    ) -> None:
        """``delay`` and ``n_recall`` belong to the per-step form and are ignored here."""
        super().__init__(batch_size, data_seed=data_seed)
        lengths = {
            "min_len": 1,
            "max_len": 20,
            "test_min_len": 1,
            "test_max_len": 30,
            **(seq2seq or {}),
        }
        if not 1 <= lengths["min_len"] <= lengths["max_len"]:
            raise ValueError("need 1 <= task.seq2seq.min_len <= task.seq2seq.max_len")
        if not 1 <= lengths["test_min_len"] <= lengths["test_max_len"]:
            raise ValueError("need 1 <= task.seq2seq.test_min_len <= task.seq2seq.test_max_len")
        self.alphabet = alphabet
        self.ranges = {
            "train": (lengths["min_len"], lengths["max_len"]),
            "val": (lengths["min_len"], lengths["max_len"]),
            "test": (lengths["test_min_len"], lengths["test_max_len"]),
        }
        self.sizes = {"train": n_train, "val": n_val, "test": n_test}

    def make_pairs(self) -> dict[str, list[Pair]]:
        generators = split_generators(self.data_seed)
        pairs: dict[str, list[Pair]] = {}
        for split, n in self.sizes.items():
            lo, hi = self.ranges[split]
            g = generators[split]
            lengths = torch.randint(lo, hi + 1, (n,), generator=g)
            symbols = torch.randint(1, self.alphabet + 1, (n, hi), generator=g)
            pairs[split] = []
            for row, length in zip(symbols.tolist(), lengths.tolist(), strict=True):
                words = [f"s{v}" for v in row[:length]]
                pairs[split].append((words, list(words)))
        return pairs
