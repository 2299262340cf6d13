"""End to end through the real entry point (`python -m seqlab.train`), tiny budgets."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import TINY, TINY_COPY, run_cli
from tests.test_step_scalars import tensorboard_scalars

MODELS = ("vanilla", "lstm", "gru", "bi")


@pytest.mark.parametrize("impl", ["fused", "explicit"])
@pytest.mark.parametrize("model", MODELS)
def test_every_model_trains_on_copy(tmp_path: Path, model: str, impl: str):
    run_dir = tmp_path / "run"
    result = run_cli(
        [
            f"model={model}",
            "task=copy",
            f"model.impl={impl}",
            *TINY,
            *TINY_COPY,
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["model"] == model and results["task"] == "copy"
    assert results["parameters"] > 0 and results["train_tokens_per_s"] > 0
    for metric in ("test/ce", "test/baseline_ce", "test/recall_acc", "test/seq_acc"):
        assert metric in results, metric
    assert (run_dir / "config.yaml").exists() and (run_dir / "metrics.csv").exists()
    assert (run_dir / "checkpoints" / "last.ckpt").exists()
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert f"parameters={results['parameters']:,}" in result.stdout
    assert f"run dir {run_dir}" in result.stdout and "test/recall_acc" in result.stdout


def test_tbptt_and_clipping_run_end_to_end(tmp_path: Path):
    run_dir = tmp_path / "run"
    result = run_cli(
        [
            "model=lstm",
            "training.tbptt_steps=4",
            "training.clip_norm=0.5",
            "training.clip_value=1.0",
            "trainer.log_every_n_steps=2",
            *TINY,
            *TINY_COPY,
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run_dir / "results.json").read_text())
    # 11 steps in chunks of 4 -> 3 optimizer steps per batch, 3 batches.
    assert results["optimizer_steps"] == 9
    # The gradient norm of every optimizer step, once each, in metrics.csv and TensorBoard.
    with (run_dir / "metrics.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r.get("train/grad_norm")]
    assert [int(r["step"]) for r in rows] == list(range(1, 10))
    assert tensorboard_scalars(run_dir / "tensorboard", "train/grad_norm")[-1][0] == 9
    assert len(tensorboard_scalars(run_dir / "tensorboard", "train/grad_norm")) == 9


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model=transformer"], "Available options in 'model'"),
        (["task=imagenet"], "Available options in 'task'"),
        (["model=bi", "training.tbptt_steps=10"], "backward direction needs the whole sequence"),
        (["training.tbptt_steps=0"], "training.tbptt_steps must be a positive number"),
        (["training.clip_norm=0"], "training.clip_norm must be > 0"),
        (["training.clip_value=-1"], "training.clip_value must be > 0"),
        (["model.hidden_size=0"], "model.hidden_size must be > 0"),
        (["model.dropout=1.0"], r"model.dropout must be in [0, 1)"),
        (["model=bi", "model.cell=lstmm"], "model.cell='lstmm' is unknown"),
        (["task.delay=0"], "task.delay must be >= 1"),
        (["trainer.devices=2"], "seqlab trains on one device"),
    ],
)
def test_bad_input_stops_before_training(tmp_path: Path, overrides: list[str], message: str):
    result = run_cli([*overrides, *TINY, f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-2000:]
    assert not (tmp_path / "run" / "checkpoints").exists()
