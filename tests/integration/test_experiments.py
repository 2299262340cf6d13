"""Every shipped experiment runs end to end at tiny scale through the command line, as
`python -m seqlab.train experiment=NAME` (its sweep, every job, the summary and figures).
Slow: run with ``pytest -m slow``."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY, run_cli

pytestmark = pytest.mark.slow

EXPERIMENTS = sorted(p.stem for p in (ROOT / "configs" / "experiment").glob("*.yaml"))
TINY_EXPERIMENT = {
    "bahdanau": [
        "task.n_train=200",
        "task.n_val=20",
        "task.n_test=60",
        "task.test_max_len=12",
        "task.pool_max_len=12",
        "task.max_len=8",
    ],
    "order_matters": ["task.n_train=96", "task.n_val=32", "task.n_test=32"],
    "parallel_over_time": ["task.delay=5", "task.n_train=96", "task.n_recall=3"],
    "parallel_over_time_accuracy": [
        "task.delay=5",
        "task.n_train=96",
        "task.n_val=32",
        "task.n_test=32",
        "trainer.val_check_interval=3",
    ],
    "language_model": [  # SEQLAB_DATA: the test text as tinyshakespeare/*.txt
        "task.batch_size=4",
        "training.tbptt_steps=8",
        "trainer.val_check_interval=3",
        "model.hidden_size=16",
        "model.embedding_size=8",
    ],
    "tune_copy": [
        "hydra.sweeper.n_trials=2",
        "trainer.val_check_interval=null",
        "task.n_train=96",
        "task.n_val=32",
        "task.n_test=32",
        "task.delay=5",
    ],
}
FIGURE = {
    "bahdanau": "bleu_vs_length.png",
    "language_model": "val_bpc.png",
    "order_matters": "metrics.png",
    "parallel_over_time": "train_tokens_per_s_by_delay.png",
    "parallel_over_time_accuracy": "test_recall_acc_by_delay.png",
    "tune_copy": "metrics.png",
}
JOBS = {
    "bahdanau": 4,
    "language_model": 5,
    "order_matters": 10,
    "parallel_over_time": 4,  # the four models at the one delay given
    "parallel_over_time_accuracy": 8,  # four models x two tasks
    "tune_copy": 2,
}


# Run through the command line by tests/findings/test_experiment_findings.py, which pins
# their findings
FINDINGS = ["exploding", "exposure_bias", "memory", "tbptt", "vanishing"]


def test_every_experiment_is_covered():
    assert sorted([*TINY_EXPERIMENT, *FINDINGS]) == EXPERIMENTS


@pytest.mark.parametrize("experiment", sorted(TINY_EXPERIMENT))
def test_experiment_runs_at_tiny_scale(tmp_path: Path, experiment: str, monkeypatch):
    sweep = tmp_path / "sweep"
    text = (Path(os.environ["SEQLAB_TEST_DATA"]) / "text.txt").read_text()
    (tmp_path / "tinyshakespeare").mkdir()
    for split in ("train", "valid", "test"):
        (tmp_path / "tinyshakespeare" / f"{split}.txt").write_text(text)
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path))
    result = run_cli(
        [
            f"experiment={experiment}",
            *TINY,
            *TINY_EXPERIMENT[experiment],
            f"hydra.sweep.dir={sweep}",
        ],
        cwd=tmp_path,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = list(csv.DictReader((sweep / "summary.csv").open()))
    assert len(rows) == JOBS[experiment]
    assert (sweep / FIGURE[experiment]).stat().st_size > 1000
