"""Corpus BLEU with sacrebleu, by source-length bucket."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from seqlab.reporting.bleu import (
    MAX_BOOTSTRAP_SENTENCES,
    bleu_by_length,
    bleu_with_interval,
    corpus_bleu,
    length_bucket,
)


def test_bleu_perfect_copy_scores_100_in_every_bucket_and_counts_add_up():
    refs = [" ".join(f"w{j}" for j in range(n)) for n in range(1, 41)]
    score, signature = corpus_bleu(refs, refs)
    assert score == pytest.approx(100.0) and "tok:13a" in signature
    buckets = bleu_by_length(refs, refs, list(range(1, 41)), width=10)
    assert [(b["lo"], b["hi"]) for b in buckets] == [(1, 10), (11, 20), (21, 30), (31, 40)]
    assert sum(b["n"] for b in buckets) == 40
    assert all(b["bleu"] == pytest.approx(100.0) for b in buckets[1:])
    assert length_bucket(10, 10) == (1, 10) and length_bucket(11, 10) == (11, 20)


def test_bleu_is_corpus_bleu_per_bucket_not_a_mean():
    hyps = ["a b c d e", "x y z w v"]
    refs = ["a b c d e", "a b c d e"]
    bucket = bleu_by_length(hyps, refs, [5, 5])[0]
    assert bucket["bleu"] == pytest.approx(corpus_bleu(hyps, refs)[0], abs=1e-3)
    assert bucket["exact_match"] == 0.5


def test_the_tokeniser_option_reaches_sacrebleu_and_matches_its_command_line(tmp_path: Path):
    refs = ["我们今天去公园散步。", "他喜欢读书和写字。", "这是一个很好的例子。"]
    hyps = ["我们今天去公园。", "他喜欢读书。", "这是一个例子。"]
    zh, signature = corpus_bleu(hyps, refs, tokenize="zh")
    assert "tok:zh" in signature and zh != corpus_bleu(hyps, refs)[0]
    (tmp_path / "ref.zh").write_text("\n".join(refs) + "\n", encoding="utf-8")
    (tmp_path / "hyp.zh").write_text("\n".join(hyps) + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "sacrebleu", str(tmp_path / "ref.zh"), "-i"]
    command += [str(tmp_path / "hyp.zh"), "-tok", "zh", "-b", "-w", "4"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    assert zh == pytest.approx(float(done.stdout), abs=1e-4)
    bucket = bleu_by_length(hyps, refs, [1, 1, 1], tokenize="zh")[0]
    assert bucket["bleu"] == pytest.approx(zh, abs=1e-3)


def test_the_bootstrap_interval_is_sacrebleus_confidence(tmp_path: Path):
    refs = [" ".join(f"w{(i * 7 + j) % 23}" for j in range(5 + i % 17)) for i in range(60)]
    hyps = [
        " ".join(w if (i + j) % 5 else "x" for j, w in enumerate(r.split()))
        for i, r in enumerate(refs)
    ]
    score, interval = bleu_with_interval(hyps, refs)
    assert score == corpus_bleu(hyps, refs)[0]
    assert interval is not None and interval.half_width > 0
    (tmp_path / "ref").write_text("\n".join(refs) + "\n", encoding="utf-8")
    (tmp_path / "hyp").write_text("\n".join(hyps) + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "sacrebleu", str(tmp_path / "ref"), "-i"]
    command += [str(tmp_path / "hyp"), "--confidence", "--confidence-n", "1000", "-w", "4"]
    cli = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    assert interval.mean == pytest.approx(cli["confidence_mean"], abs=1e-4)
    assert interval.half_width == pytest.approx(cli["confidence_var"], abs=1e-4)
    bucket = bleu_by_length(hyps, refs, [1] * len(refs))[0]
    assert (bucket["bleu_mean"], bucket["bleu_ci95"]) == (
        round(interval.mean, 3),
        round(interval.half_width, 3),
    )


def test_no_interval_for_one_sentence_or_too_many():
    many = ["a b c d"] * (MAX_BOOTSTRAP_SENTENCES + 1)
    for texts in (["a b c d"], many):
        score, interval = bleu_with_interval(texts, texts)
        assert interval is None and score == pytest.approx(100.0)
    assert bleu_by_length(["a b c d"], ["a b c d"], [4])[0]["bleu_ci95"] is None
