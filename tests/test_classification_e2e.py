"""Every model on sentiment and tagging through the real entry point; invalid pairs refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TINY, TINY_COPY, run_cli

TINY_SENTIMENT = [
    "task.n_train=128",
    "task.n_val=32",
    "task.n_test=32",
    "task.n_order_pairs=16",
    "task.batch_size=32",
]
TINY_TAGGING = ["task.n_train=128", "task.n_val=32", "task.n_test=32", "task.batch_size=32"]


def _train(tmp_path: Path, args: list[str]) -> dict:
    tmp_path.mkdir(parents=True, exist_ok=True)
    run_dir = tmp_path / "run"
    result = run_cli([*args, *TINY, f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((run_dir / "results.json").read_text())


@pytest.mark.parametrize("model", ["bow", "window", "vanilla", "lstm", "gru", "bi"])
def test_every_classifier_trains_on_sentiment(tmp_path: Path, model: str):
    results = _train(tmp_path, [f"model={model}", "task=sentiment", *TINY_SENTIMENT])
    assert {"test/acc", "test/acc_order_dependent", "test/ce"} <= set(results)


@pytest.mark.parametrize("model", ["lstm", "bi", "window"])
def test_tagging_runs(tmp_path: Path, model: str):
    results = _train(tmp_path, [f"model={model}", "task=tagging", *TINY_TAGGING])
    assert {"test/acc", "test/acc_ambiguous"} <= set(results)


def test_window_runs_on_copy_and_pooling_options(tmp_path: Path):
    assert "test/recall_acc" in _train(tmp_path / "a", ["model=window", "task=copy", *TINY_COPY])
    assert "test/acc" in _train(
        tmp_path / "b", ["model=bi", "model.pooling=max", "task=sentiment", *TINY_SENTIMENT]
    )


def test_text_tsv_end_to_end(tmp_path: Path):
    lines = ["good movie\tpositive", "bad movie\tnegative", "not good\tnegative"]
    for name in ("train", "valid", "test"):
        (tmp_path / f"{name}.tsv").write_text("\n".join(lines * 10) + "\n")
    results = _train(
        tmp_path,
        [
            "model=lstm",
            "task=text_tsv",
            "task.train_path=train.tsv",
            "task.valid_path=valid.tsv",
            "task.test_path=test.tsv",
        ],
    )
    assert "test/acc" in results


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model=bow", "task=translation"], "needs an output sequence (an encoder-decoder)"),
        (["model=bow", "task=copy"], "needs one output per input step"),
        (["model=seq2seq", "task=sentiment"], "needs one label per sequence"),
        (["model=window", "task=copy", "training.tbptt_steps=5"], "no hidden state to carry"),
        (["model=lstm", "task=sentiment", "training.tbptt_steps=5"], "needs a per-step task"),
        (["model=lstm", "model.pooling=sum"], "model.pooling='sum' is unknown"),
        (
            [
                "model=lstm",
                "task=text_tsv",
                "task.train_path=t.tsv",
                "task.valid_path=t.tsv",
                "task.test_path=t.tsv",
                "task.labels=[neg,pos]",
            ],
            "label 'maybe' is neither a class",
        ),
        (
            [
                "model=lstm",
                "task=text_tsv",
                "task.train_path=e.tsv",
                "task.valid_path=e.tsv",
                "task.test_path=e.tsv",
            ],
            "e.tsv holds no examples",
        ),
    ],
)
def test_invalid_classification_input(tmp_path: Path, overrides: list[str], message: str):
    (tmp_path / "t.tsv").write_text("good\tpos\nhmm\tmaybe\n")
    (tmp_path / "e.tsv").write_text("\n")
    result = run_cli([*overrides, *TINY, f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-2000:]
