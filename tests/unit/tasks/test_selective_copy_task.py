"""Selective copying: the symbols sit at random positions among blanks and come back in order
after the delimiter."""

from __future__ import annotations

import torch

from seqlab.spec import PER_STEP
from seqlab.tasks.copy import memoryless_baseline_ce
from seqlab.tasks.selective_copy import SelectiveCopyConfig, generate_selective_copy


def test_symbols_are_scattered_and_recalled_in_order():
    delay, k, alphabet = 7, 4, 8
    batch = generate_selective_copy(200, delay, k, alphabet, torch.Generator().manual_seed(0))
    inputs, targets, focus = batch["inputs"], batch["targets"], batch["focus"]
    region = delay + k - 1
    assert inputs.shape == (200, delay + 2 * k)
    assert (inputs[:, region] == alphabet + 1).all() and (inputs[:, region + 1 :] == 0).all()
    for row in range(200):
        stored = inputs[row, :region]
        symbols = stored[stored != 0]
        assert symbols.tolist() == targets[row, -k:].tolist()  # in the order they came
    assert (targets[:, :-k] == 0).all() and focus[:, -k:].all() and not focus[:, :-k].any()
    first = (inputs[:, :region] != 0).float().argmax(1)
    assert len(set(first.tolist())) > 3  # positions differ from sequence to sequence


def test_the_task_serves_per_step_models_with_copys_metrics():
    config = SelectiveCopyConfig(delay=5, n_recall=3, n_train=64, n_val=16, n_test=16)
    assert config.offers == (PER_STEP,)
    data = config.build(PER_STEP)
    data.setup()
    spec = data.spec
    assert spec.name == "selective_copy" and spec.focus_metric == "recall_acc"
    assert spec.baseline_ce == memoryless_baseline_ce(5, 3, 8)
    assert data.splits["train"]["inputs"].shape == (64, 11)
