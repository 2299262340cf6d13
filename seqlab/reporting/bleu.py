"""BLEU with sacrebleu: corpus BLEU, its signature, and BLEU by source-length bucket.

Every score is corpus BLEU over a set of sentences (never a mean of sentence BLEU), of
detokenised hypotheses against the raw reference lines of the data (sacrebleu applies its
tokeniser: 13a unless the ``decoding.bleu_tokenize`` option names another).
"""

from __future__ import annotations

from typing import Any

from sacrebleu.metrics import BLEU


def corpus_bleu(
    hypotheses: list[str], references: list[str], lowercase: bool = False, tokenize: str = "13a"
) -> tuple[float, str]:
    """-> (BLEU 0..100, sacrebleu signature). References are the raw target lines; with
    ``lowercase`` the comparison ignores case and the signature says ``case:lc``;
    ``tokenize`` is sacrebleu's tokeniser (``-tok``: 13a, intl, zh, char, none, ...)."""
    metric = BLEU(lowercase=lowercase, tokenize=tokenize)
    score = metric.corpus_score(hypotheses, [references])
    return float(score.score), str(metric.get_signature())


def length_bucket(length: int, width: int) -> tuple[int, int]:
    """Buckets 1..w, w+1..2w, ...: length 10 -> (1, 10), 11 -> (11, 20) for w = 10."""
    lo = (length - 1) // width * width + 1
    return lo, lo + width - 1


def bleu_by_length(
    hypotheses: list[str],
    references: list[str],
    source_lengths: list[int],
    width: int = 10,
    lowercase: bool = False,
    tokenize: str = "13a",
) -> list[dict[str, Any]]:
    """Corpus BLEU per source-length bucket: [{lo, hi, n, bleu, exact_match}], by lo."""
    if width < 1:
        raise ValueError(f"bucket width must be >= 1, got {width}")
    groups: dict[tuple[int, int], list[int]] = {}
    for i, length in enumerate(source_lengths):
        groups.setdefault(length_bucket(length, width), []).append(i)
    buckets = []
    for (lo, hi), members in sorted(groups.items()):
        hyps = [hypotheses[i] for i in members]
        refs = [references[i] for i in members]
        score, _ = corpus_bleu(hyps, refs, lowercase, tokenize)
        exact = sum(h == r for h, r in zip(hyps, refs, strict=True)) / len(members)
        buckets.append(
            {
                "lo": lo,
                "hi": hi,
                "n": len(members),
                "bleu": round(score, 3),
                "exact_match": round(exact, 4),
            }
        )
    return buckets
