"""Seq2seq end to end: train, evaluate and translate from checkpoints, plot, bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import TINY, run_cli

TINY_TRANSLATION = [
    "task.n_train=128",
    "task.n_val=32",
    "task.n_test=48",
    "task.batch_size=32",
    "task.max_len=8",
    "task.test_max_len=12",
    "model.hidden_size=16",
    "model.embedding_size=8",
    "model.attention_size=8",
]
TINY_COPY = [
    "task.n_train=128",
    "task.n_val=32",
    "task.n_test=32",
    "task.batch_size=32",
    "task.seq2seq.max_len=6",
    "task.seq2seq.test_max_len=8",
    "model.hidden_size=16",
]


@pytest.mark.parametrize("model", ["seq2seq", "seq2seq_attention"])
@pytest.mark.parametrize("task", ["translation", "copy"])
def test_seq2seq_models_train_on_translation_and_copy(tmp_path: Path, model: str, task: str):
    run_dir = tmp_path / "run"
    tiny = TINY_TRANSLATION if task == "translation" else TINY_COPY
    result = run_cli(
        [f"model={model}", f"task={task}", *TINY, *tiny, f"hydra.run.dir={run_dir}"], cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run_dir / "results.json").read_text())
    for key in (
        "test/bleu",
        "test/exact_match",
        "test/acc_teacher_forced",
        "test/acc_free_running",
        "test/exposure_bias",
    ):
        assert key in results, key
    assert "nrefs:1" in results["test/bleu_signature"]
    buckets = results["test/bleu_by_length"]
    assert sum(b["n"] for b in buckets) == (48 if task == "translation" else 32)
    assert (run_dir / "test_hypotheses.tsv").read_text().startswith("index\tsource")


def test_scheduled_sampling_and_beam_search_run(tmp_path: Path):
    run_dir = tmp_path / "run"
    result = run_cli(
        [
            "model=seq2seq",
            "model.cell=lstm",
            "task=translation",
            *TINY,
            *TINY_TRANSLATION,
            "training.scheduled_sampling.schedule=linear",
            "training.scheduled_sampling.c=0.1",
            "decoding.beam_size=3",
            "trainer.log_every_n_steps=1",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = list(csv.DictReader((run_dir / "metrics.csv").open()))
    ratios = [
        float(r["train/teacher_forcing_ratio"])
        for r in rows
        if r.get("train/teacher_forcing_ratio")
    ]
    assert ratios == pytest.approx([1.0, 0.9, 0.8])  # linear: k - c*i per optimizer step
    assert json.loads((run_dir / "results.json").read_text())["decoding"]["beam_size"] == 3


def test_tsv_train_evaluate_translate_and_plot(tmp_path: Path):
    lines = ["the dog\tle chien", "a cat\tun chat", "the cat\tle chat", "a dog\tun chien"]
    for name in ("train", "valid", "test"):
        (tmp_path / f"{name}.tsv").write_text("\n".join(lines * 8) + "\n")
    run_dir = tmp_path / "run"
    result = run_cli(
        [
            "model=seq2seq_attention",
            "task=tsv",
            "task.train_path=train.tsv",
            "task.valid_path=valid.tsv",
            "task.test_path=test.tsv",
            "task.lowercase=true",
            *TINY,
            "model.hidden_size=16",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ckpt = run_dir / "checkpoints" / "last.ckpt"

    evaluated = run_cli(
        [f"ckpt_path={ckpt}", "decoding.beam_size=2", f"out={tmp_path / 'ev'}"],
        cwd=tmp_path,
        module="seqlab.evaluate",
    )
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    metrics = json.loads((tmp_path / "ev" / "results.json").read_text())
    assert "test/bleu" in metrics and metrics["test/bleu_by_length"][0]["n"] == 32

    (tmp_path / "in.txt").write_text("The Dog\na zebra cat\n")
    translated = run_cli(
        [f"ckpt_path={ckpt}", "input=in.txt", "output=out.txt"],
        cwd=tmp_path,
        module="seqlab.translate",
    )
    assert translated.returncode == 0, translated.stderr[-3000:]
    assert len((tmp_path / "out.txt").read_text().splitlines()) == 2

    plotted = run_cli(
        [str(run_dir), "--out", str(tmp_path / "fig")], cwd=tmp_path, module="seqlab.plot"
    )
    assert plotted.returncode == 0, plotted.stderr
    assert (tmp_path / "fig.png").stat().st_size > 1000
    assert next(csv.DictReader((tmp_path / "fig.csv").open()))["label"] == "RNNsearch"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model=lstm", "task=translation"], "needs an output sequence (an encoder-decoder)"),
        (
            ["model=seq2seq", "task=translation", "training.teacher_forcing=1.5"],
            r"must be in [0, 1]",
        ),
        (
            ["model=seq2seq", "task=translation", "training.scheduled_sampling.schedule=cosine"],
            "schedule='cosine' is unknown",
        ),
        (
            ["model=seq2seq", "model.decoder_bidirectional=true"],
            "a decoder cannot be bidirectional",
        ),
        (
            [
                "model=seq2seq",
                "task=tsv",
                "task.train_path=nope.tsv",
                "task.valid_path=nope.tsv",
                "task.test_path=nope.tsv",
            ],
            "nope.tsv does not exist",
        ),
        (
            [
                "model=seq2seq",
                "task=tsv",
                "task.train_path=bad.tsv",
                "task.valid_path=bad.tsv",
                "task.test_path=bad.tsv",
            ],
            "bad.tsv:2: no tab in this line",
        ),
        (
            [
                "model=seq2seq",
                "task=tsv",
                "task.train_path=empty.tsv",
                "task.valid_path=empty.tsv",
                "task.test_path=empty.tsv",
            ],
            "empty.tsv holds no sentence pairs",
        ),
    ],
)
def test_seq2seq_bad_input(tmp_path: Path, overrides: list[str], message: str):
    (tmp_path / "bad.tsv").write_text("a b\tc d\njust words\n")
    (tmp_path / "empty.tsv").write_text("")
    result = run_cli([*overrides, *TINY, f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-2000:]


def test_evaluate_refuses_missing_and_foreign_checkpoints(tmp_path: Path):
    missing = run_cli(
        [f"ckpt_path={tmp_path / 'none.ckpt'}"], cwd=tmp_path, module="seqlab.evaluate"
    )
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    (tmp_path / "junk.ckpt").write_text("not a checkpoint")
    junk = run_cli(
        [f"ckpt_path={tmp_path / 'junk.ckpt'}", "input=x"], cwd=tmp_path, module="seqlab.translate"
    )
    assert junk.returncode == 1 and "is not a seqlab checkpoint" in junk.stderr
    import torch

    torch.save({"state_dict": {}}, tmp_path / "other.ckpt")
    other = run_cli(
        [f"ckpt_path={tmp_path / 'other.ckpt'}"], cwd=tmp_path, module="seqlab.evaluate"
    )
    assert other.returncode == 1 and "no seqlab metadata" in other.stderr
