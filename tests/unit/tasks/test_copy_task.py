"""The copying-memory data exactly as Arjovsky et al. (2016) define it."""

from __future__ import annotations

import math

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.spec import PER_STEP, SEQ2SEQ
from seqlab.tasks.copy import (
    CopyConfig,
    CopyDataModule,
    Seq2SeqCopyDataModule,
    generate_copy,
    memoryless_baseline_ce,
)


def test_layout_of_inputs_and_targets():
    g = torch.Generator().manual_seed(0)
    data = generate_copy(50, delay=7, n_recall=10, alphabet=8, generator=g)
    x, y, focus = data["inputs"], data["targets"], data["focus"]
    assert x.shape == y.shape == focus.shape == (50, 7 + 20)
    symbols = x[:, :10]
    assert bool(((symbols >= 1) & (symbols <= 8)).all())
    assert bool((x[:, 10:16] == 0).all())  # T - 1 blanks
    assert bool((x[:, 16] == 9).all())  # the delimiter
    assert bool((x[:, 17:] == 0).all())  # K blanks
    assert bool((y[:, :17] == 0).all())  # T + K blanks
    assert torch.equal(y[:, 17:], symbols)
    assert focus.sum().item() == 50 * 10 and bool(focus[:, 17:].all())


def test_memoryless_baseline_matches_published_values():
    assert memoryless_baseline_ce(50, 10, 8) == pytest.approx(0.2971, abs=1e-4)
    assert memoryless_baseline_ce(100, 10, 8) == pytest.approx(0.1733, abs=1e-4)
    assert memoryless_baseline_ce(20, 10, 8) == pytest.approx(10 * math.log(8) / 40)


def test_splits_are_seeded_disjoint_and_reproducible():
    a = CopyDataModule(CopyConfig(delay=5, n_train=200, n_val=200, n_test=200, data_seed=3))
    b = CopyDataModule(CopyConfig(delay=5, n_train=200, n_val=200, n_test=200, data_seed=3))
    a.setup()
    b.setup()
    assert torch.equal(a.splits["train"]["inputs"], b.splits["train"]["inputs"])
    assert not torch.equal(a.splits["train"]["inputs"], a.splits["val"]["inputs"])
    assert not torch.equal(a.splits["val"]["inputs"], a.splits["test"]["inputs"])


def test_loader_yields_whole_batches():
    dm = CopyDataModule(CopyConfig(delay=5, n_recall=3, n_train=70, batch_size=32))
    dm.setup()
    sizes = [batch["inputs"].shape for batch in dm.train_dataloader()]
    assert sizes == [(32, 11), (32, 11), (6, 11)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"delay": 0}, "task.delay must be >= 1"),
        ({"alphabet": 1}, "task.alphabet must be >= 2"),
        (
            {"seq2seq": {"min_len": 4, "max_len": 2}},
            r"task.seq2seq.min_len <= task.seq2seq.max_len",
        ),
        ({"seq2seq": {"test_min_len": 0}}, "task.seq2seq.test_min_len"),
    ],
)
def test_bad_sizes_are_refused(options, message):
    with pytest.raises(ConfigError, match=message):
        CopyConfig(**options)


def test_the_task_serves_per_step_models_and_encoder_decoders():
    config = CopyConfig(n_train=50, n_val=5, n_test=5, seq2seq={"min_len": 3, "max_len": 6})
    assert CopyConfig.offers == (PER_STEP, SEQ2SEQ)
    per_step = config.build(PER_STEP)
    assert isinstance(per_step, CopyDataModule)
    assert per_step.spec.solved_when == ("val/recall_acc", 0.995)
    seq2seq = config.build(SEQ2SEQ)
    assert isinstance(seq2seq, Seq2SeqCopyDataModule)
    for source, target in seq2seq.make_texts()["train"]:
        assert source == target and 3 <= len(source.split()) <= 6
    seq2seq.setup()
    assert seq2seq.spec.solved_when == ("val/exact_match", 0.995)
