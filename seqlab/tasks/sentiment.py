"""Synthetic sentiment with negation, intensifiers and contrast: order carries the label.

Grammar. A clause is ``SUBJECT is|was [not] [very|really|quite] ADJ``; a sentence is one clause,
or ``clause but clause``. The label is computed compositionally:

* a clause is positive when its adjective is positive, flipped by ``not`` (intensifiers change
  nothing);
* with ``but``, the clause after it decides ("good but bad" is negative).

Filler words (``honestly``, ``overall``, ``i think``, ...) before and after the clauses
lengthen sentences without changing the label, so the length range is configurable and the
deciding words are not always among the last few tokens (a fixed window misses them).

Order-dependent test subset: pairs of contrast sentences with the same tokens and opposite
labels, made by swapping the two clauses ("the plot was good but the acting was bad" /
"the acting was bad but the plot was good"). A bag-of-words model sees identical inputs for
both members of a pair, so it cannot beat 50% on this subset.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import lightning as L

from seqlab.config.checks import require_at_least
from seqlab.config.schema import TaskConfig
from seqlab.data.labelled_text import TextClassificationDataModule, TextExample
from seqlab.data.splits import split_seed
from seqlab.errors import ConfigError
from seqlab.spec import SEQUENCE

SUBJECTS = [
    ["the", "movie"],
    ["the", "plot"],
    ["the", "acting"],
    ["the", "music"],
    ["the", "ending"],
    ["it"],
    ["the", "film"],
    ["the", "script"],
]
POSITIVE = ["good", "great", "excellent", "fun", "moving", "clever", "superb", "lovely"]
NEGATIVE = ["bad", "awful", "boring", "dull", "terrible", "weak", "silly", "poor"]
INTENSIFIERS = ["very", "really", "quite"]
FILLERS = [["honestly"], ["overall"], ["i", "think"], ["in", "the", "end"], ["to", "be", "fair"]]
LABELS = ["negative", "positive"]


def clause(rng: random.Random, positive_word: bool, negated: bool) -> list[str]:
    words = [*rng.choice(SUBJECTS), rng.choice(["is", "was"])]
    if negated:
        words.append("not")
    if rng.random() < 0.4:
        words.append(rng.choice(INTENSIFIERS))
    words.append(rng.choice(POSITIVE if positive_word else NEGATIVE))
    return words


def clause_label(positive_word: bool, negated: bool) -> int:
    return int(positive_word != negated)


def pad_with_fillers(words: list[str], length: int, rng: random.Random) -> list[str]:
    """Add filler phrases before or after (each side with probability 1/2) until the
    sentence is about ``length`` words long."""
    while len(words) < length:
        filler = rng.choice(FILLERS)
        if len(words) + len(filler) > length + 2:
            break
        words = [*filler, *words] if rng.random() < 0.5 else [*words, *filler]
    return words


def example(rng: random.Random, length: int, contrast: bool) -> tuple[list[str], int]:
    first = (rng.random() < 0.5, rng.random() < 0.3)
    words = clause(rng, *first)
    label = clause_label(*first)
    if contrast:
        second = (rng.random() < 0.5, rng.random() < 0.3)
        words = [*words, "but", *clause(rng, *second)]
        label = clause_label(*second)
    return pad_with_fillers(words, length, rng), label


def order_dependent_pair(rng: random.Random, length: int) -> list[tuple[list[str], int]]:
    """Two sentences, same tokens, opposite labels: 'A but B' and 'B but A'."""
    first = (rng.random() < 0.5, rng.random() < 0.3)
    second = (not first[0], first[1]) if rng.random() < 0.5 else (first[0], not first[1])
    a, b = clause(rng, *first), clause(rng, *second)
    room = max(0, length - len(a) - len(b) - 1)
    before = pad_with_fillers([], rng.randint(0, room), rng)
    after = pad_with_fillers([], room - len(before), rng) if room > len(before) else []
    return [
        ([*before, *a, "but", *b, *after], clause_label(*second)),
        ([*before, *b, "but", *a, *after], clause_label(*first)),
    ]


@dataclass
class SentimentConfig(TaskConfig):
    """sentiment: synthetic sentences with negation, intensifiers and "X but Y".

    n_train, n_val, n_test: sentences per split; n_order_pairs: pairs with the same tokens and
    opposite labels added to the test set. min_len..max_len: sentence lengths (fillers
    lengthen them). contrast_rate: share of "X but Y" sentences. batch_size, data_seed.
    """

    _target_: str = "seqlab.tasks.sentiment.SentimentConfig"
    name: str = "sentiment"
    n_train: int = 20000
    n_val: int = 1000
    n_test: int = 2000
    n_order_pairs: int = 500
    min_len: int = 3
    max_len: int = 20
    contrast_rate: float = 0.5
    batch_size: int = 64
    data_seed: int = 0

    offers = (SEQUENCE,)

    def __post_init__(self) -> None:
        if not 1 <= self.min_len <= self.max_len:
            raise ConfigError(
                f"need 1 <= task.min_len <= task.max_len, got {self.min_len}, {self.max_len}"
            )
        if not 0.0 <= self.contrast_rate <= 1.0:
            raise ConfigError(f"task.contrast_rate must be in [0, 1], got {self.contrast_rate}")
        require_at_least(
            "task",
            1,
            n_train=self.n_train,
            n_val=self.n_val,
            n_test=self.n_test,
            batch_size=self.batch_size,
        )
        require_at_least("task", 0, n_order_pairs=self.n_order_pairs)

    def build(self, output: str) -> L.LightningDataModule:
        return SentimentDataModule(self)


class SentimentDataModule(TextClassificationDataModule):
    """Synthetic sentiment; the test set adds ``n_order_pairs`` order-dependent pairs."""

    def __init__(self, config: SentimentConfig) -> None:
        super().__init__(
            config.name,
            config.batch_size,
            data_seed=config.data_seed,
            focus_metric="acc_order_dependent",
            solved_when=("val/acc", 0.999),
        )
        self.config = config

    def make_examples(self) -> dict[str, list[TextExample]]:
        c = self.config
        splits: dict[str, list[TextExample]] = {}
        for split, n in (("train", c.n_train), ("val", c.n_val), ("test", c.n_test)):
            rng = random.Random(split_seed(c.data_seed, split))
            splits[split] = [
                TextExample(
                    *example(rng, rng.randint(c.min_len, c.max_len), rng.random() < c.contrast_rate)
                )
                for _ in range(n)
            ]
        rng = random.Random(split_seed(c.data_seed, "extra"))
        for _ in range(c.n_order_pairs):
            pair = order_dependent_pair(rng, rng.randint(c.min_len, c.max_len))
            splits["test"] += [TextExample(words, label, focus=True) for words, label in pair]
        return splits

    def label_names(self) -> list[str]:
        return list(LABELS)


def order_pairs_are_consistent(examples: list[TextExample]) -> bool:
    """Every focus example has a partner with the same tokens and the other label."""
    focus = [e for e in examples if e.focus]
    by_bag: dict[tuple[str, ...], set[int]] = {}
    for e in focus:
        by_bag.setdefault(tuple(sorted(e.words)), set()).add(e.label)
    return all(labels == {0, 1} for labels in by_bag.values())


# The schemas this module declares, stored in Hydra's ConfigStore by
# seqlab.engine.run_config.register_schemas as schema/task/<name>.
SCHEMAS = {"sentiment": SentimentConfig}
