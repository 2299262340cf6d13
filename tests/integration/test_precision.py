"""trainer.precision: bf16-mixed trains every model family on CPU; the clipping of scaled
(16-mixed) gradients acts on the true gradient; unsupported values are refused."""

from __future__ import annotations

import csv
import math

import pytest
import torch
from torch import nn

from seqlab.config.training import TrainingConfig
from seqlab.engine.run import plan_run
from seqlab.objectives.base import clip_gradients
from tests.conftest import clean_error, compose_config, tiny, train


@pytest.mark.parametrize(
    ("model", "task", "extra"),
    [
        ("lstm", "copy", []),  # fused cell
        ("gru", "copy", ["model.impl=explicit"]),  # seqlab's gate-level cells
        ("seq2seq", "translation", ["training.teacher_forcing=0.5"]),  # sampled decoder
        ("seq2seq_attention", "translation", ["training.teacher_forcing=0.5"]),  # step loop
        ("seq2seq_attention", "translation", []),  # the attention recurrence, in float32
    ],
)
def test_bf16_mixed_runs_under_autocast_with_finite_losses(
    model, task, extra, tmp_path, monkeypatch
):
    seen = []
    real_forward = nn.Linear.forward

    def recording_forward(self, x):
        seen.append(torch.is_autocast_enabled("cpu"))
        return real_forward(self, x)

    monkeypatch.setattr(nn.Linear, "forward", recording_forward)
    results = train([*tiny(model, task), "trainer.precision=bf16-mixed", *extra], tmp_path)
    assert any(seen)  # the training step ran under bfloat16 autocast
    assert math.isfinite(results["test/ce"])
    with (tmp_path / "metrics.csv").open() as handle:
        losses = [float(r["train/ce"]) for r in csv.DictReader(handle) if r.get("train/ce")]
    assert losses and all(math.isfinite(v) for v in losses)


@pytest.mark.slow
def test_bf16_mixed_learns_a_tiny_task(tmp_path):
    """bfloat16 on a CPU without native bf16 units is emulated and slow: 160 steps, ~30 s."""
    overrides = [
        *tiny("lstm", "copy"),
        "trainer.precision=bf16-mixed",
        "trainer.max_epochs=4",
        "trainer.limit_train_batches=null",
        "task.n_train=1280",
        "model.hidden_size=32",
    ]
    train(overrides, tmp_path)
    with (tmp_path / "metrics.csv").open() as handle:
        losses = [float(r["train/ce"]) for r in csv.DictReader(handle) if r.get("train/ce")]
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert last < 0.7 * first, (first, last)


def test_clipping_scaled_gradients_acts_on_the_true_gradient():
    torch.manual_seed(0)
    true = [torch.randn(5, 3) * 4, torch.randn(7) * 4]
    for options in ({"clip_norm": 1.0}, {"clip_value": 0.5}, {"clip_norm": 1.0, "clip_value": 0.5}):
        cfg = TrainingConfig(**options)
        plain = [nn.Parameter(torch.zeros_like(g)) for g in true]
        scaled = [nn.Parameter(torch.zeros_like(g)) for g in true]
        for p, q, g in zip(plain, scaled, true, strict=True):
            p.grad, q.grad = g.clone(), g.clone() * 1024.0
        norm = clip_gradients(plain, cfg)
        norm_scaled = clip_gradients(scaled, cfg, scale=1024.0)
        assert float(norm_scaled) / 1024.0 == pytest.approx(float(norm), rel=1e-5)
        for p, q in zip(plain, scaled, strict=True):
            assert torch.allclose(q.grad / 1024.0, p.grad, atol=1e-5)


@pytest.mark.parametrize(
    ("value", "message"),
    [("8-mixed", "trainer.precision='8-mixed' is not supported"), ("16-mixed", "needs a GPU")],
)
def test_unsupported_precision_is_refused_before_running(value, message, capsys):
    cfg = compose_config([*tiny("lstm", "copy"), f"trainer.precision={value}"])
    assert message in clean_error(lambda: plan_run(cfg), capsys)


def test_a_cpu_without_a_bfloat16_lstm_runs_the_fused_lstm_in_float32(monkeypatch):
    """oneDNN builds a bfloat16 LSTM only on CPUs with bfloat16 instructions; elsewhere the
    fused LSTM runs in float32 under bf16 autocast, and gives the float32 result."""
    from seqlab.models import recurrent

    monkeypatch.setattr(recurrent, "cpu_has_bfloat16_lstm", lambda: False)
    torch.manual_seed(0)
    layer = recurrent.Recurrent("lstm", 4, 8)
    x = torch.randn(3, 5, 4)
    expected = layer(x).outputs
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = layer(x).outputs
    assert got.dtype == torch.float32
    assert torch.allclose(got, expected)
