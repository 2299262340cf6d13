"""Synthetic tagging where an ambiguous word's tag depends on a word that comes *after* it.

As "bank" in "the bank of the river" vs "the bank gave a loan": each ambiguous word
(bank, bat, pitch, spring) is followed, 1..max_gap positions later, by a cue word of one of two
senses (river/shore/... or money/loan/...); its tag is that sense. Every other word has a
fixed tag. A left-to-right model has not seen the cue when it must tag the ambiguous word, so
it can only guess (50%); a bidirectional model sees the cue. Fixed-length sequences.

Metrics: test/acc over all positions, test/acc_ambiguous over the ambiguous words.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightning as L
import torch

from seqlab.config.checks import require_at_least
from seqlab.config.schema import TaskConfig
from seqlab.data.splits import TensorSplitsDataModule, split_generators
from seqlab.errors import ConfigError
from seqlab.spec import PER_STEP, Batch, TaskSpec

AMBIGUOUS = ["bank", "bat", "pitch", "spring"]
CUES = {"NATURE": ["river", "shore", "water", "field"], "MONEY": ["money", "loan", "cash", "price"]}
FILLERS = {
    "DET": ["the", "a", "this", "every"],
    "NOUN": ["man", "dog", "city", "house", "day"],
    "VERB": ["saw", "found", "left", "liked", "took"],
    "ADP": ["of", "near", "by", "with"],
}

WORDS = [
    "<pad>",
    *AMBIGUOUS,
    *CUES["NATURE"],
    *CUES["MONEY"],
    *[w for words in FILLERS.values() for w in words],
]
TAGS = ["NATURE", "MONEY", "CUE", *FILLERS]
WORD_ID = {w: i for i, w in enumerate(WORDS)}
FILLER_IDS = torch.tensor([WORD_ID[w] for words in FILLERS.values() for w in words])
FILLER_TAGS = torch.tensor([TAGS.index(tag) for tag, words in FILLERS.items() for _ in words])


def generate_tagging(
    n: int, length: int, n_ambiguous: int, max_gap: int, generator: torch.Generator
) -> Batch:
    """inputs (n, L) word ids, targets (n, L) tag ids, focus (n, L) the ambiguous positions.

    Each sequence is split into ``n_ambiguous`` equal segments; each segment holds one
    ambiguous word and, gap ∈ [1, max_gap] positions later, a cue deciding its sense.
    """
    segment = length // n_ambiguous
    if segment < max_gap + 1:
        raise ValueError(
            f"task.length={length} is too short for {n_ambiguous} ambiguous words with cues up "
            f"to {max_gap} positions later; raise task.length or lower task.n_ambiguous"
        )
    pick = torch.randint(len(FILLER_IDS), (n, length), generator=generator)
    inputs, targets = FILLER_IDS[pick], FILLER_TAGS[pick]
    focus = torch.zeros(n, length, dtype=torch.bool)
    rows = torch.arange(n)
    for k in range(n_ambiguous):
        gap = torch.randint(1, max_gap + 1, (n,), generator=generator)
        start = torch.randint(0, segment - max_gap, (n,), generator=generator) + k * segment
        sense = torch.randint(0, 2, (n,), generator=generator)  # 0 NATURE, 1 MONEY
        word = torch.randint(len(AMBIGUOUS), (n,), generator=generator)
        cue = torch.randint(4, (n,), generator=generator)
        inputs[rows, start] = 1 + word
        targets[rows, start] = sense
        focus[rows, start] = True
        inputs[rows, start + gap] = 1 + len(AMBIGUOUS) + 4 * sense + cue
        targets[rows, start + gap] = TAGS.index("CUE")
    return {"inputs": inputs, "targets": targets, "focus": focus}


@dataclass
class TaggingConfig(TaskConfig):
    """tagging: sequences of ``length`` words with ``n_ambiguous`` ambiguous words, each
    decided by a cue 1..max_gap positions later. n_train, n_val, n_test, batch_size,
    data_seed."""

    _target_: str = "seqlab.tasks.tagging.TaggingConfig"
    name: str = "tagging"
    length: int = 20
    n_ambiguous: int = 2
    max_gap: int = 3
    n_train: int = 10000
    n_val: int = 1000
    n_test: int = 2000
    batch_size: int = 64
    data_seed: int = 0

    offers = (PER_STEP,)

    def __post_init__(self) -> None:
        require_at_least(
            "task",
            1,
            length=self.length,
            n_ambiguous=self.n_ambiguous,
            max_gap=self.max_gap,
            n_train=self.n_train,
            n_val=self.n_val,
            n_test=self.n_test,
            batch_size=self.batch_size,
        )
        if self.length // self.n_ambiguous < self.max_gap + 1:
            raise ConfigError(
                f"task.length={self.length} is too short for {self.n_ambiguous} ambiguous "
                f"words with cues up to {self.max_gap} positions later; raise task.length or "
                f"lower task.n_ambiguous"
            )

    def build(self, output: str) -> L.LightningDataModule:
        return TaggingDataModule(self)


class TaggingDataModule(TensorSplitsDataModule):
    def __init__(self, config: TaggingConfig) -> None:
        super().__init__()
        self.config = config
        self.batch_size = config.batch_size
        self.splits: dict[str, Batch] = {}
        self.spec = TaskSpec(
            name=config.name,
            output=PER_STEP,
            vocab_size=len(WORDS),
            num_classes=len(TAGS),
            fixed_length=True,
            sequence_length=config.length,
            focus_metric="acc_ambiguous",
        )

    def setup(self, stage: str | None = None) -> None:
        if not self.splits:
            c = self.config
            generators = split_generators(c.data_seed)
            sizes = {"train": c.n_train, "val": c.n_val, "test": c.n_test}
            self.splits = {
                split: generate_tagging(n, c.length, c.n_ambiguous, c.max_gap, generators[split])
                for split, n in sizes.items()
            }


# The schemas this module declares, stored in Hydra's ConfigStore by
# seqlab.engine.run_config.register_schemas as schema/task/<name>.
SCHEMAS = {"tagging": TaggingConfig}
