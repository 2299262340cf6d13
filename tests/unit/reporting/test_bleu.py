"""Corpus BLEU with sacrebleu, by source-length bucket."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from seqlab.reporting.bleu import bleu_by_length, corpus_bleu, length_bucket


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
