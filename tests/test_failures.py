"""A non-finite loss stops training and keeps the last good checkpoint; runs never overwrite
each other."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

import seqlab.objectives.per_step as per_step
from seqlab.config import ConfigError
from seqlab.objectives.base import NonFiniteLossError
from seqlab.train import run
from tests.conftest import TINY_COPY, compose_config


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
            *TINY_COPY,
        ]
    )
    # validation also calls per_step_ce: 2 train + 1 val per epoch -> NaN in epoch 1's training
    with pytest.raises(NonFiniteLossError, match=r"became nan at optimizer step \d+ .*clip_norm"):
        run(cfg, tmp_path)
    last = tmp_path / "checkpoints" / "last.ckpt"
    assert last.exists()
    state = torch.load(last, map_location="cpu", weights_only=False)
    assert state["epoch"] == 0  # saved after the last good epoch
    assert all(torch.isfinite(v).all() for v in state["state_dict"].values())
    assert not (tmp_path / "results.json").exists()


def test_a_finished_run_dir_is_never_reused(tmp_path: Path):
    (tmp_path / "results.json").write_text("{}")
    cfg = compose_config(TINY_COPY)
    with pytest.raises(ConfigError, match="never overwrites a previous run"):
        run(cfg, tmp_path)
    assert (tmp_path / "results.json").read_text() == "{}"
