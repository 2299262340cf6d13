"""BLEU with sacrebleu: corpus BLEU, its signature, its bootstrap interval, and BLEU by
source-length bucket.

Every score is corpus BLEU over a set of sentences (never a mean of sentence BLEU), of
detokenised hypotheses against the raw reference lines of the data (sacrebleu applies its
tokeniser: 13a unless the ``decoding.bleu_tokenize`` option names another).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sacrebleu.metrics import BLEU

# sacrebleu --confidence: 1000 resamples of the sentences, with replacement (seed 12345, or
# $SACREBLEU_SEED), a 95% interval.
BOOTSTRAP_SAMPLES = 1000
# sacrebleu holds every resample's statistics at once: 40 bytes a sentence per resample, so
# 400 MB at this many sentences. A larger set gets no interval (its own is a fraction of a
# point anyway).
MAX_BOOTSTRAP_SENTENCES = 10_000


@dataclass(frozen=True)
class BleuInterval:
    """sacrebleu's bootstrap estimate: ``mean`` ± ``half_width`` holds 95% of the BLEU of
    corpora resampled from the scored sentences (``sacrebleu --confidence`` prints it as
    ``μ = mean ± half_width``)."""

    mean: float
    half_width: float


def corpus_bleu(
    hypotheses: list[str], references: list[str], lowercase: bool = False, tokenize: str = "13a"
) -> tuple[float, str]:
    """-> (BLEU 0..100, sacrebleu signature). References are the raw target lines; with
    ``lowercase`` the comparison ignores case and the signature says ``case:lc``;
    ``tokenize`` is sacrebleu's tokeniser (``-tok``: 13a, intl, zh, char, none, ...)."""
    metric = BLEU(lowercase=lowercase, tokenize=tokenize)
    score = metric.corpus_score(hypotheses, [references])
    return float(score.score), str(metric.get_signature())


def bleu_with_interval(
    hypotheses: list[str], references: list[str], lowercase: bool = False, tokenize: str = "13a"
) -> tuple[float, BleuInterval | None]:
    """-> (corpus BLEU, its 95% bootstrap interval as ``sacrebleu --confidence`` computes
    it), from one scoring; no interval for fewer than two sentences or more than
    MAX_BOOTSTRAP_SENTENCES."""
    metric = BLEU(lowercase=lowercase, tokenize=tokenize)
    if not 2 <= len(hypotheses) <= MAX_BOOTSTRAP_SENTENCES:
        return float(metric.corpus_score(hypotheses, [references]).score), None
    score = metric.corpus_score(hypotheses, [references], n_bootstrap=BOOTSTRAP_SAMPLES)
    return float(score.score), BleuInterval(float(score._mean), float(score._ci))


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
    """Corpus BLEU per source-length bucket, by lo: [{lo, hi, n, bleu, exact_match,
    bleu_mean, bleu_ci95}], the last two the bucket's bootstrap interval
    (:func:`bleu_with_interval`; None where it has none)."""
    if width < 1:
        raise ValueError(f"bucket width must be >= 1, got {width}")
    groups: dict[tuple[int, int], list[int]] = {}
    for i, length in enumerate(source_lengths):
        groups.setdefault(length_bucket(length, width), []).append(i)
    buckets = []
    for (lo, hi), members in sorted(groups.items()):
        hyps = [hypotheses[i] for i in members]
        refs = [references[i] for i in members]
        score, interval = bleu_with_interval(hyps, refs, lowercase, tokenize)
        exact = sum(h == r for h, r in zip(hyps, refs, strict=True)) / len(members)
        buckets.append(
            {
                "lo": lo,
                "hi": hi,
                "n": len(members),
                "bleu": round(score, 3),
                "exact_match": round(exact, 4),
                "bleu_mean": round(interval.mean, 3) if interval else None,
                "bleu_ci95": round(interval.half_width, 3) if interval else None,
            }
        )
    return buckets
