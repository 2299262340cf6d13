"""A new model and a new task are one module and one yaml each, with no edit in seqlab: the
ones in tests/extension/ train through the real entry point, found on Hydra's search path,
once the user names the module in SEQLAB_EXTENSIONS (without it they are refused)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TINY, clean_error, compose_config, train


@pytest.fixture(autouse=True)
def _extension_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEQLAB_EXTENSIONS", "tests.extension.toy")


def test_without_the_users_consent_the_extension_is_refused(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.delenv("SEQLAB_EXTENSIONS")
    cfg = compose_config(["model=pair_embedding", "task=previous_token"], extension=True)
    from seqlab.engine.run import run

    message = clean_error(lambda: run(cfg, tmp_path / "run"), capsys)
    assert "task._target_=tests.extension.toy.PreviousTokenConfig is refused" in message
    assert "SEQLAB_EXTENSIONS" in message and not (tmp_path / "run").exists()


def test_a_model_and_a_task_defined_only_under_tests_train(tmp_path: Path):
    results = train(
        [
            "model=pair_embedding",
            "task=previous_token",
            "trainer.max_epochs=15",
            "training.lr=0.05",
        ],
        tmp_path / "run",
        extension=True,
    )
    assert results["model"] == "pair_embedding" and results["task"] == "previous_token"
    assert results["test/acc"] > 0.95  # chance is 1/6
    assert results["config"]["model"]["_target_"] == "tests.extension.toy.PairEmbeddingConfig"


def test_the_new_model_meets_the_shipped_tasks_and_their_checks(tmp_path: Path, capsys):
    results = train(
        ["model=pair_embedding", "task=tagging", *TINY], tmp_path / "run", extension=True
    )
    assert "test/acc_ambiguous" in results
    cfg = compose_config(["model=pair_embedding", "task=translation"], extension=True)
    from seqlab.engine.run import run

    message = clean_error(lambda: run(cfg, tmp_path / "other"), capsys)
    assert "model=pair_embedding cannot be trained on task=translation" in message
    cfg = compose_config(["model=pair_embedding", "model.embedding_size=two"], extension=True)
    message = clean_error(lambda: run(cfg, tmp_path / "third"), capsys)
    assert "model.embedding_size: Value 'two'" in message
