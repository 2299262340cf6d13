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
from dataclasses import dataclass, field

import lightning as L
import torch

from seqlab.config.checks import require_at_least
from seqlab.config.schema import TaskConfig
from seqlab.data.pairs import Seq2SeqDataModule, TextPair
from seqlab.data.splits import TensorSplitsDataModule, split_generators
from seqlab.errors import ConfigError
from seqlab.spec import PER_STEP, SEQ2SEQ, Batch, TaskSpec


@dataclass
class CopySeq2SeqLengths:
    """Lengths of the seq2seq form: training and validation sources have min_len..max_len
    symbols, test sources test_min_len..test_max_len."""

    min_len: int = 1
    max_len: int = 20
    test_min_len: int = 1
    test_max_len: int = 30


@dataclass
class CopyConfig(TaskConfig):
    """copy: the copying-memory problem for per-step models; sequence copying for
    encoder-decoders.

    delay (T), n_recall (K), alphabet (A): the per-step form's sizes. n_train, n_val, n_test:
    examples per split. batch_size. data_seed: the splits come from disjoint seeds derived
    from it. seq2seq: the lengths of the seq2seq form.
    """

    _target_: str = "seqlab.tasks.copy.CopyConfig"
    name: str = "copy"
    delay: int = 10
    n_recall: int = 10
    alphabet: int = 8
    n_train: int = 20000
    n_val: int = 1000
    n_test: int = 2000
    batch_size: int = 128
    data_seed: int = 0
    seq2seq: CopySeq2SeqLengths = field(default_factory=CopySeq2SeqLengths)

    offers = (PER_STEP, SEQ2SEQ)

    def __post_init__(self) -> None:
        if isinstance(self.seq2seq, dict):
            self.seq2seq = CopySeq2SeqLengths(**self.seq2seq)
        require_at_least(
            "task",
            1,
            delay=self.delay,
            n_recall=self.n_recall,
            n_train=self.n_train,
            n_val=self.n_val,
            n_test=self.n_test,
            batch_size=self.batch_size,
        )
        require_at_least("task", 2, alphabet=self.alphabet)
        lengths = self.seq2seq
        if not 1 <= lengths.min_len <= lengths.max_len:
            raise ConfigError("need 1 <= task.seq2seq.min_len <= task.seq2seq.max_len")
        if not 1 <= lengths.test_min_len <= lengths.test_max_len:
            raise ConfigError("need 1 <= task.seq2seq.test_min_len <= task.seq2seq.test_max_len")

    def build(self, output: str) -> L.LightningDataModule:
        return CopyDataModule(self) if output == PER_STEP else Seq2SeqCopyDataModule(self)


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
    return recall_batch(inputs, symbols)


def recall_batch(inputs: torch.Tensor, symbols: torch.Tensor) -> Batch:
    """The batch of a copy-style task from its inputs (n, L) and the (n, K) symbols to
    recall: targets blank but for the symbols at the last K positions, the focus there."""
    targets = torch.zeros_like(inputs)
    targets[:, -symbols.size(1) :] = symbols
    focus = torch.zeros_like(inputs, dtype=torch.bool)
    focus[:, -symbols.size(1) :] = True
    return {"inputs": inputs, "targets": targets, "focus": focus}


class CopyDataModule(TensorSplitsDataModule):
    """Copying-memory data, generated once per split from disjoint seeds (by ``generate``:
    the selective-copy task brings its own)."""

    generate = staticmethod(generate_copy)

    def __init__(self, config: CopyConfig) -> None:
        super().__init__()
        self.config = config
        self.batch_size = config.batch_size
        self.splits: dict[str, Batch] = {}
        self.spec = TaskSpec(
            name=config.name,
            output=PER_STEP,
            vocab_size=config.alphabet + 2,
            num_classes=config.alphabet + 1,
            fixed_length=True,
            sequence_length=config.delay + 2 * config.n_recall,
            focus_metric="recall_acc",
            baseline_ce=memoryless_baseline_ce(config.delay, config.n_recall, config.alphabet),
            solved_when=("val/recall_acc", 0.995),
        )

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        c = self.config
        generators = split_generators(c.data_seed)
        sizes = {"train": c.n_train, "val": c.n_val, "test": c.n_test}
        for split, n in sizes.items():
            self.splits[split] = self.generate(
                n, c.delay, c.n_recall, c.alphabet, generators[split]
            )


class Seq2SeqCopyDataModule(Seq2SeqDataModule):
    """Seq2seq copy: source = L random symbols (L uniform on a range), target = the same.

    Symbols are the words ``s1`` .. ``sA``; the per-step keys (delay, n_recall) are not used.
    """

    def __init__(self, config: CopyConfig) -> None:
        super().__init__(
            config.name,
            config.batch_size,
            data_seed=config.data_seed,
            solved_when=("val/exact_match", 0.995),
        )
        lengths = config.seq2seq
        self.alphabet = config.alphabet
        self.ranges = {
            "train": (lengths.min_len, lengths.max_len),
            "val": (lengths.min_len, lengths.max_len),
            "test": (lengths.test_min_len, lengths.test_max_len),
        }
        self.sizes = {"train": config.n_train, "val": config.n_val, "test": config.n_test}

    def make_texts(self) -> dict[str, list[TextPair]]:
        generators = split_generators(self.data_seed)
        pairs: dict[str, list[TextPair]] = {}
        for split, n in self.sizes.items():
            lo, hi = self.ranges[split]
            g = generators[split]
            lengths = torch.randint(lo, hi + 1, (n,), generator=g)
            symbols = torch.randint(1, self.alphabet + 1, (n, hi), generator=g)
            pairs[split] = []
            for row, length in zip(symbols.tolist(), lengths.tolist(), strict=True):
                text = " ".join(f"s{v}" for v in row[:length])
                pairs[split].append((text, text))
        return pairs


# The schemas this module declares, stored in Hydra's ConfigStore by
# seqlab.engine.run_config.register_schemas as schema/task/<name>.
SCHEMAS = {"copy": CopyConfig}
