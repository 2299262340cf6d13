"""A non-finite loss stops training and keeps the last good checkpoint."""

from __future__ import annotations

import math

import pytest
import torch

import seqlab.objectives.per_step as per_step
from seqlab.errors import NonFiniteLossError
from seqlab.train import run
from tests.conftest import TINY_TASK, compose_config


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
    assert not (tmp_path / "results.json").exists()
