"""Write a large source<TAB>target file for measuring seqlab's data pipeline.

    python scripts/make_large_tsv.py out.tsv --pairs 1000000 [--seed 0]

Sentences come from seqlab's synthetic language pair (seqlab/tasks/translation.py), written
like real text: capitalised, with commas and a final full stop, lengths 3-40 words. About 70
bytes per line.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seqlab.tasks.translation import sentence, translate


def as_text(words: list[str], rng: random.Random) -> str:
    text = " ".join(words)
    text = text.replace(" and ", ", and ").replace(" but ", ", but ")
    return text[0].upper() + text[1:] + rng.choice(".!.?.")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with args.out.open("w", encoding="utf-8") as handle:
        for _ in range(args.pairs):
            source = sentence(rng.randint(3, 40), rng)
            end = rng.random()
            handle.write(f"{as_text(source, random.Random(end))}\t")
            handle.write(f"{as_text(translate(source), random.Random(end))}\n")
    print(f"{args.pairs:,} pairs -> {args.out} ({args.out.stat().st_size / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
