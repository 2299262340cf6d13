"""A seeded synthetic language pair for the fixed-context bottleneck (Bahdanau et al. 2014).

Source sentences are English-like word strings from a small grammar; the target is a
deterministic translation that follows the source order with local reordering and a few
one-to-two expansions, so a model must carry every word of the source and BLEU is meaningful:

* a word dictionary (``the -> le``, ``dog -> chien``, ...);
* adjective-noun reordering: ``the big red dog`` -> ``le chien grand rouge`` (the noun moves in
  front of the adjectives that precede it, as in French);
* one-to-two expansions: ``near -> pres de``, ``often -> tres souvent``, ``never -> ne jamais``,
  ``takes -> prend avec``.

Lengths: each sentence's length is drawn uniformly from a range; training and test ranges are
set separately (the -30 / -50 suffix of RNNenc-30 / RNNsearch-50 is the training maximum).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import lightning as L

from seqlab.config.checks import require_at_least
from seqlab.config.schema import TaskConfig
from seqlab.data.pairs import Seq2SeqDataModule, TextPair, check_vocabulary_and_batching
from seqlab.data.splits import SPLITS, split_seed
from seqlab.errors import ConfigError
from seqlab.spec import SEQ2SEQ

LEXICON: dict[str, dict[str, str]] = {
    "DET": {"the": "le", "a": "un", "this": "ce", "every": "chaque", "my": "mon", "some": "des"},
    "ADJ": {
        "red": "rouge",
        "big": "grand",
        "small": "petit",
        "old": "vieux",
        "happy": "heureux",
        "green": "vert",
        "quiet": "calme",
        "fast": "rapide",
    },
    "NOUN": {
        "dog": "chien",
        "cat": "chat",
        "man": "homme",
        "woman": "femme",
        "house": "maison",
        "car": "voiture",
        "tree": "arbre",
        "bird": "oiseau",
        "river": "fleuve",
        "city": "ville",
        "book": "livre",
        "child": "enfant",
    },
    "VERB": {
        "sees": "voit",
        "likes": "aime",
        "follows": "suit",
        "finds": "trouve",
        "watches": "regarde",
        "has": "a",
        "takes": "prend avec",
        "wants": "veut",
    },
    "PREP": {"near": "pres de", "with": "avec", "under": "sous", "behind": "derriere"},
    "ADV": {"often": "tres souvent", "quickly": "vite", "never": "ne jamais"},
    "CONJ": {"and": "et", "but": "mais"},
}
DICTIONARY = {src: tgt for words in LEXICON.values() for src, tgt in words.items()}
CATEGORY = {src: cat for cat, words in LEXICON.items() for src in words}


CASE_MARKERS = {"NOUN": "ka", "VERB": "ta"}


def translate(source: list[str], case_markers: bool = False) -> list[str]:
    """The reference translation of a source sentence (any word sequence of the lexicon).

    case_markers: follow every noun with the particle ``ka`` and every verb with ``ta`` (as
    in languages with case and tense particles), so targets are about 1.4x the source length.
    """
    reordered: list[str] = []
    adjectives: list[str] = []
    for word in source:
        if CATEGORY[word] == "ADJ":
            adjectives.append(word)
            continue
        if CATEGORY[word] == "NOUN":
            reordered.append(word)
            reordered.extend(adjectives)
        else:
            reordered.extend(adjectives)
            reordered.append(word)
        adjectives = []
    reordered.extend(adjectives)
    words = []
    for word in reordered:
        words += DICTIONARY[word].split()
        if case_markers and CATEGORY[word] in CASE_MARKERS:
            words.append(CASE_MARKERS[CATEGORY[word]])
    return words


def _noun_phrase(rng: random.Random) -> list[str]:
    words = [rng.choice(list(LEXICON["DET"]))]
    words += [rng.choice(list(LEXICON["ADJ"])) for _ in range(rng.choice((0, 0, 1, 1, 2)))]
    return [*words, rng.choice(list(LEXICON["NOUN"]))]


def _clause(rng: random.Random) -> list[str]:
    words = _noun_phrase(rng)
    if rng.random() < 0.3:
        words.append(rng.choice(list(LEXICON["ADV"])))
    words.append(rng.choice(list(LEXICON["VERB"])))
    words += _noun_phrase(rng)
    if rng.random() < 0.5:
        words += [rng.choice(list(LEXICON["PREP"])), *_noun_phrase(rng)]
    return words


def sentence(length: int, rng: random.Random) -> list[str]:
    """A grammatical word stream cut to exactly ``length`` words."""
    words = _clause(rng)
    while len(words) < length:
        words += [rng.choice(list(LEXICON["CONJ"])), *_clause(rng)]
    return words[:length]


Pair = tuple[list[str], list[str]]


def generate_pairs(
    n: int, min_len: int, max_len: int, rng: random.Random, case_markers: bool = False
) -> list[Pair]:
    """n (source, target) pairs with source lengths uniform on [min_len, max_len]."""
    pairs = []
    for _ in range(n):
        source = sentence(rng.randint(min_len, max_len), rng)
        pairs.append((source, translate(source, case_markers)))
    return pairs


@dataclass
class TranslationConfig(TaskConfig):
    """translation: the synthetic language pair.

    min_len..max_len: source lengths of training and validation pairs (the -30 / -50 of
    RNNenc-30 / RNNsearch-50 is max_len); test_min_len..test_max_len: of test pairs.
    n_train, n_val, n_test: pairs per split. pool_max_len: draw the n_train training pairs
    on [min_len, pool_max_len] and keep those of at most max_len words, as Bahdanau et al.
    trained their -30 models on the short sentences of the same corpus (null: draw on
    [min_len, max_len]). case_markers: a particle after every target noun (ka) and verb (ta).
    batch_size: sentences per batch (evaluation, and training unless batch_tokens);
    batch_tokens: training batches of about this many source tokens instead. min_freq,
    max_vocab: vocabulary from the training pairs. data_seed: seeds of the splits.
    """

    _target_: str = "seqlab.tasks.translation.TranslationConfig"
    name: str = "translation"
    min_len: int = 1
    max_len: int = 50
    test_min_len: int = 1
    test_max_len: int = 60
    n_train: int = 30000
    pool_max_len: int | None = None
    n_val: int = 500
    n_test: int = 3000
    batch_size: int = 64
    batch_tokens: int | None = None
    case_markers: bool = False
    data_seed: int = 0
    min_freq: int = 1
    max_vocab: int | None = None

    offers = (SEQ2SEQ,)

    def __post_init__(self) -> None:
        if self.pool_max_len is not None and self.pool_max_len < self.max_len:
            raise ConfigError(
                f"task.pool_max_len ({self.pool_max_len}) must be >= task.max_len "
                f"({self.max_len}): the training pairs are the pool's sentences of at most "
                f"max_len words"
            )
        if not 1 <= self.min_len <= self.max_len:
            raise ConfigError(
                f"need 1 <= task.min_len <= task.max_len, got {self.min_len}, {self.max_len}"
            )
        if not 1 <= self.test_min_len <= self.test_max_len:
            raise ConfigError(
                f"need 1 <= task.test_min_len <= task.test_max_len, got {self.test_min_len}, "
                f"{self.test_max_len}"
            )
        require_at_least(
            "task",
            1,
            n_train=self.n_train,
            n_val=self.n_val,
            n_test=self.n_test,
            batch_size=self.batch_size,
            min_freq=self.min_freq,
        )
        check_vocabulary_and_batching(self.batch_tokens, self.max_vocab)

    def build(self, output: str) -> L.LightningDataModule:
        return TranslationDataModule(self)


class TranslationDataModule(Seq2SeqDataModule):
    """Synthetic translation: train/val on [min_len, max_len], test on [test_min_len,
    test_max_len], each split from its own seed (see :class:`TranslationConfig`)."""

    def __init__(self, config: TranslationConfig) -> None:
        super().__init__(
            config.name,
            config.batch_size,
            config.min_freq,
            config.max_vocab,
            config.data_seed,
            config.batch_tokens,
        )
        self.config = config
        self.ranges = {
            "train": (config.min_len, config.max_len),
            "val": (config.min_len, config.max_len),
            "test": (config.test_min_len, config.test_max_len),
        }
        self.sizes = {"train": config.n_train, "val": config.n_val, "test": config.n_test}

    def make_texts(self) -> dict[str, list[TextPair]]:
        pairs = {}
        pool_max_len = self.config.pool_max_len
        for split in SPLITS:
            low, high = self.ranges[split]
            pool_high = pool_max_len if split == "train" and pool_max_len else high
            drawn = generate_pairs(
                self.sizes[split],
                low,
                pool_high,
                random.Random(split_seed(self.data_seed, split)),
                self.config.case_markers,
            )
            pairs[split] = [(" ".join(s), " ".join(t)) for s, t in drawn if len(s) <= high]
        return pairs


# The schemas this module declares, stored in Hydra's ConfigStore by
# seqlab.engine.run_config.register_schemas as schema/task/<name>.
SCHEMAS = {"translation": TranslationConfig}
