"""Write a large source<TAB>target file for measuring seqlab's data pipeline.

    python scripts/make_large_tsv.py out.tsv --pairs 1000000 [--seed 0] [--lexicon 0]

--lexicon 0 (the default): sentences from seqlab's synthetic language pair
(seqlab/tasks/translation.py), written like real text: capitalised, with commas and a final
full stop, lengths 3-40 words, about 70 bytes per line and 190 word types per side.

--lexicon N: words drawn from a Zipf distribution (exponent 1.05) over N made-up word forms
per side, so the corpus has as many distinct types as real text of its size (a 1M-pair
corpus: several hundred thousand per side); the target side spells its words with accented
letters (é, ü, ß, ...), as European languages do, so it is not ASCII. Same sentence lengths,
capitals and punctuation.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seqlab.tasks.translation import sentence, translate

ONSETS = ["", "b", "br", "ch", "d", "f", "g", "gr", "k", "l", "m", "n", "p", "pl", "r", "s"]
ONSETS += ["sh", "st", "t", "tr", "v", "w", "z"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou"]
TARGET_VOWELS = [*VOWELS, "é", "è", "ü", "ö", "â", "ø"]
CODAS = ["", "", "n", "r", "s", "t", "l", "ck", "ss", "ß", "nd"]


def as_text(words: list[str], rng: random.Random) -> str:
    text = " ".join(words)
    text = text.replace(" and ", ", and ").replace(" but ", ", but ")
    return text[0].upper() + text[1:] + rng.choice(".!.?.")[0]


def lexicon(size: int, vowels: list[str], rng: random.Random) -> list[str]:
    """``size`` distinct made-up words of 1-4 syllables, shorter words first (the frequent
    ranks of a Zipf distribution get the short words, as in real languages)."""
    codas = [c for c in CODAS if c != "ß"] if vowels == VOWELS else CODAS
    words: dict[str, None] = {}
    while len(words) < size:
        syllables = min(4, 1 + int(rng.expovariate(1.0) * (1 + len(words) / size * 3)))
        word = "".join(rng.choice(ONSETS) + rng.choice(vowels) for _ in range(syllables))
        words.setdefault(word + rng.choice(codas))
    return list(words)


def write_synthetic(handle, pairs: int, rng: random.Random) -> None:
    for _ in range(pairs):
        source = sentence(rng.randint(3, 40), rng)
        end = rng.random()
        handle.write(f"{as_text(source, random.Random(end))}\t")
        handle.write(f"{as_text(translate(source), random.Random(end))}\n")


def write_zipf(handle, pairs: int, size: int, seed: int) -> None:
    rng = random.Random(seed)
    source_words, target_words = lexicon(size, VOWELS, rng), lexicon(size, TARGET_VOWELS, rng)
    draw = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, size + 1) ** 1.05
    cumulative = np.cumsum(weights / weights.sum())
    marks = [".", ".", ".", "!", "?"]
    for start in range(0, pairs, 10_000):
        lengths = draw.integers(3, 41, min(10_000, pairs - start))
        ranks = np.searchsorted(cumulative, draw.random(int(lengths.sum())))
        ranks = np.minimum(ranks, size - 1).tolist()
        position = 0
        for length in lengths.tolist():
            ids = ranks[position : position + length]
            position += length
            mark, comma = marks[ids[0] % 5], 1 + ids[-1] % max(1, length - 1)
            sides = []
            for words in (source_words, target_words):
                tokens = [words[i] for i in ids]
                tokens[comma - 1] += "," if length > 6 else ""
                text = " ".join(tokens)
                sides.append(text[0].upper() + text[1:] + mark)
            handle.write(f"{sides[0]}\t{sides[1]}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lexicon", type=int, default=0, help="0: the synthetic language")
    args = parser.parse_args()
    with args.out.open("w", encoding="utf-8") as handle:
        if args.lexicon:
            write_zipf(handle, args.pairs, args.lexicon, args.seed)
        else:
            write_synthetic(handle, args.pairs, random.Random(args.seed))
    print(f"{args.pairs:,} pairs -> {args.out} ({args.out.stat().st_size / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
