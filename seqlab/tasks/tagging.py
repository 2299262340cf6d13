"""Synthetic tagging where an ambiguous word's tag depends on a word that comes *after* it.

As "bank" in "the bank of the river" vs "the bank gave a loan": each ambiguous word
(bank, bat, pitch, spring) is followed, 1..max_gap positions later, by a cue word of one of two
senses (river/shore/... or money/loan/...); its tag is that sense. Every other word has a
fixed tag. A left-to-right model has not seen the cue when it must tag the ambiguous word, so
it can only guess (50%); a bidirectional model sees the cue. Fixed-length sequences.

Metrics: test/acc over all positions, test/acc_ambiguous over the ambiguous words.
"""

from __future__ import annotations

import torch

from seqlab.tasks.base import (
    PER_STEP,
    Batch,
    TaskSpec,
    TensorSplitsDataModule,
    require_at_least_one,
    split_generators,
)

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


class TaggingDataModule(TensorSplitsDataModule):
    def __init__(
        self,
        length: int = 20,
        n_ambiguous: int = 2,
        max_gap: int = 3,
        n_train: int = 10000,
        n_val: int = 1000,
        n_test: int = 2000,
        batch_size: int = 64,
        data_seed: int = 0,
    ) -> None:
        super().__init__()
        require_at_least_one(
            length=length,
            n_ambiguous=n_ambiguous,
            max_gap=max_gap,
            n_train=n_train,
            n_val=n_val,
            n_test=n_test,
            batch_size=batch_size,
        )
        self.options = (length, n_ambiguous, max_gap)
        generate_tagging(1, *self.options, torch.Generator())  # validate the sizes now
        self.sizes = {"train": n_train, "val": n_val, "test": n_test}
        self.batch_size, self.data_seed = batch_size, data_seed
        self.splits: dict[str, Batch] = {}
        self.spec = TaskSpec(
            name="tagging",
            output=PER_STEP,
            vocab_size=len(WORDS),
            num_classes=len(TAGS),
            fixed_length=True,
            focus_metric="acc_ambiguous",
            extra={"tags": TAGS},
        )

    def setup(self, stage: str | None = None) -> None:
        if not self.splits:
            generators = split_generators(self.data_seed)
            self.splits = {
                s: generate_tagging(n, *self.options, generators[s]) for s, n in self.sizes.items()
            }
