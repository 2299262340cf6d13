"""Checkpoints: those written by earlier versions still evaluate and translate to the same
numbers; files that need arbitrary pickled objects are refused without running them."""

from __future__ import annotations

import csv
import json
import pathlib
import shutil
from pathlib import Path

import pytest
import torch
from sacrebleu.metrics import BLEU

from seqlab.config.upgrade import upgrade_config
from seqlab.errors import CheckpointError
from seqlab.inference.checkpoints import read_checkpoint
from seqlab.inference.evaluate import evaluate
from seqlab.inference.translate import translate_lines
from seqlab.models.encoder_decoder import Seq2SeqConfig
from seqlab.models.rnn import RNNConfig
from seqlab.tasks.copy import CopyConfig
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "checkpoints_v0"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())


@pytest.fixture
def fixtures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the fixtures as the working directory (their tsv paths are relative)."""
    shutil.copytree(FIXTURES, tmp_path / "v0")
    monkeypatch.chdir(tmp_path / "v0")
    return tmp_path / "v0"


# Since issue 10, BLEU scores detokenised hypotheses against the data's raw reference lines,
# and each sentence gets its own output limit (older checkpoints: 2 x its source + 10, no
# longer the batch's longest): BLEU and free-running numbers of seq2seq models may move.
# What does not depend on decoding must be the same to the last digit.
UNCHANGED = {
    "test/ce",
    "test/acc_teacher_forced",
    "test/acc",
    "test/baseline_ce",
    "test/recall_acc",
    "test/seq_acc",
}


@pytest.mark.parametrize("name", ["tsv_attention", "copy_lstm", "copy_seq2seq"])
def test_checkpoints_of_the_previous_version_evaluate_to_the_same_numbers(fixtures, name):
    out = fixtures / ("eval_" + name)
    results = evaluate([f"ckpt_path={name}.ckpt", f"out={out}"])
    for metric, value in EXPECTED[name].items():
        if metric in UNCHANGED:
            assert results[metric] == pytest.approx(value, rel=1e-5, abs=1e-6), metric
    if "test/bleu" in results:  # scored against the raw references, as sacrebleu would
        rows = sorted(csv.reader((out / "test_hypotheses.tsv").open(), delimiter="\t"))[:-1]
        hyps, refs = [r[3] for r in rows], [r[2] for r in rows]
        assert results["test/bleu"] == pytest.approx(BLEU().corpus_score(hyps, [refs]).score)


def test_checkpoints_of_the_previous_version_translate(fixtures):
    lines = translate_lines(["ckpt_path=tsv_attention.ckpt", "input=in.txt"])
    assert lines == EXPECTED["translate_tsv_attention"]


LAYOUT_2026_11 = ROOT / "tests" / "fixtures" / "checkpoints_2026_11"
EXPECTED_2026_11 = json.loads((LAYOUT_2026_11 / "expected.json").read_text())


@pytest.mark.parametrize("name", ["text_tsv_gru", "tsv_attention_word"])
def test_checkpoints_of_the_flat_layout_evaluate_to_the_same_numbers(tmp_path, monkeypatch, name):
    """Checkpoints written before the package layout (class paths such as
    seqlab.tasks.text_classification.TextTsvConfig) load and evaluate to what they did."""
    shutil.copytree(LAYOUT_2026_11, tmp_path / "flat")
    monkeypatch.chdir(tmp_path / "flat")
    results = evaluate([f"ckpt_path={name}.ckpt", f"out={tmp_path / 'eval'}"])
    for metric, value in EXPECTED_2026_11[f"{name}.ckpt"].items():
        found = results[metric]
        if metric == "test/bleu_by_length":  # buckets have gained fields since (intervals)
            pairs = zip(found, value, strict=True)
            found = [{key: bucket[key] for key in old} for bucket, old in pairs]
        assert found == (pytest.approx(value, rel=1e-6) if isinstance(value, float) else value)


def test_checkpoints_of_the_flat_layout_translate(tmp_path, monkeypatch):
    shutil.copytree(LAYOUT_2026_11, tmp_path / "flat")
    monkeypatch.chdir(tmp_path / "flat")
    lines = translate_lines(["ckpt_path=tsv_attention_word.ckpt", "input=in.txt"])
    assert lines == EXPECTED_2026_11["translate"]["tsv_attention_word.ckpt"]


def test_old_configs_are_upgraded_to_named_classes(fixtures):
    checkpoint = read_checkpoint("copy_seq2seq.ckpt")
    assert isinstance(checkpoint.model_config, Seq2SeqConfig)
    assert isinstance(checkpoint.task_config, CopyConfig)
    assert checkpoint.task_config.seq2seq.max_len == 5
    old = {
        "model": {"name": "lstm", "kind": "recurrent", "hidden_size": 8, "window": 5},
        "task": {"name": "copy", "monitor": "val/ce", "stop_when": {"metric": "x"}},
    }
    new = upgrade_config(old)
    assert new["model"] == {
        "name": "lstm",
        "hidden_size": 8,
        "_target_": "seqlab.models.rnn.RNNConfig",
    }
    assert new["task"] == {"name": "copy", "_target_": "seqlab.tasks.copy.CopyConfig"}
    assert isinstance(read_checkpoint("copy_lstm.ckpt").model_config, RNNConfig)


class _Payload:
    """Unpickling this would create the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_a_checkpoint_that_would_run_code_is_refused_and_runs_nothing(tmp_path: Path):
    marker = tmp_path / "code_ran"
    torch.save(
        {"seqlab": {}, "state_dict": {}, "payload": _Payload(marker)}, tmp_path / "evil.ckpt"
    )
    with pytest.raises(CheckpointError, match="is refused: it holds pickled objects"):
        read_checkpoint(tmp_path / "evil.ckpt")
    assert not marker.exists()


def test_missing_and_foreign_files_are_refused(tmp_path: Path):
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint(tmp_path / "none.ckpt")
    (tmp_path / "junk.ckpt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="is not a seqlab checkpoint"):
        read_checkpoint(tmp_path / "junk.ckpt")
    torch.save({"state_dict": {}}, tmp_path / "other.ckpt")
    with pytest.raises(CheckpointError, match="no seqlab metadata"):
        read_checkpoint(tmp_path / "other.ckpt")
