"""A non-finite loss stops training and keeps the last good checkpoint."""

from __future__ import annotations

import json
import math

import pytest
import torch
from omegaconf import OmegaConf

import seqlab.objectives.per_step as per_step
from seqlab.engine.resume import prepare_resume
from seqlab.engine.run import run, sweep_job_goes_on
from seqlab.errors import NonFiniteLossError
from seqlab.reporting.results import write_results
from tests.conftest import TINY_TASK, clean_error, compose_config


def test_nan_loss_stops_with_step_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    real_ce = per_step.per_step_ce
    calls = {"n": 0}

    def ce_that_turns_nan(logits, targets):
        calls["n"] += 1
        loss = real_ce(logits, targets)
        return loss * math.nan if calls["n"] > 4 else loss  # training steps 5, 6, ... are NaN

    monkeypatch.setattr(per_step, "per_step_ce", ce_that_turns_nan)
    cfg = compose_config(
        [
            "trainer.max_epochs=5",
            "trainer.limit_train_batches=2",
            "trainer.limit_val_batches=1",
            *TINY_TASK["copy"],
        ]
    )
    # validation also calls per_step_ce: 2 train + 1 val per epoch -> NaN in epoch 1's training
    with pytest.raises(NonFiniteLossError, match=r"became nan at optimizer step 3 .*clip_norm"):
        run(cfg, tmp_path)
    last = tmp_path / "checkpoints" / "last.ckpt"
    assert last.exists()
    state = torch.load(last, map_location="cpu", weights_only=True)
    assert state["epoch"] == 0  # saved after the last good epoch
    assert all(torch.isfinite(v).all() for v in state["state_dict"].values())
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["status"] == "diverged" and "became nan" in results["error"]
    assert results["optimizer_steps"] == 3 and not any(k.startswith("test/") for k in results)


def test_a_diverged_run_is_not_resumed(tmp_path, capsys):
    (tmp_path / "checkpoints").mkdir()
    cfg = compose_config(["trainer.max_epochs=1", *TINY_TASK["copy"]])
    OmegaConf.save(cfg, tmp_path / "config.yaml")
    torch.save({"global_step": 3, "epoch": 0}, tmp_path / "checkpoints" / "last.ckpt")
    write_results(tmp_path, {"status": "diverged", "optimizer_steps": 3, "error": "nan"})
    err = clean_error(lambda: prepare_resume(tmp_path, []), capsys)
    assert "diverged at optimizer step 3" in err and "training.clip_norm" in err


def test_a_diverged_sweep_job_lets_the_sweep_go_on(capsys):
    with sweep_job_goes_on(in_sweep=True):
        raise NonFiniteLossError("the training loss became nan at optimizer step 7")
    err = capsys.readouterr().err
    assert "became nan at optimizer step 7" in err and "the sweep goes on" in err
    with pytest.raises(NonFiniteLossError), sweep_job_goes_on(in_sweep=False):
        raise NonFiniteLossError("a single run still fails")
