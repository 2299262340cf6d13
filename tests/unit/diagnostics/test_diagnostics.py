"""Gradient-flow diagnostics: the Constant Error Carousel, gradient norms by distance, the
callback's CSV and TensorBoard figure, and the options' checks."""

from __future__ import annotations

import csv
import math

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from seqlab.diagnostics.gradient_flow import DiagnosticsConfig, gradient_norms, unroll
from seqlab.engine.run import plan_run
from seqlab.errors import ConfigError
from seqlab.models.cells import lstm_cell, lstm_gates
from seqlab.models.recurrent import Recurrent
from seqlab.models.rnn import RecurrentClassifier, RecurrentTagger, RNNConfig
from seqlab.reporting.gradient_flow import decay_rate, read_gradient_flow
from tests.conftest import clean_error, compose_config, tiny, train

H, X = 6, 5


def _lstm_weights(seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    x_proj = torch.randn(1, 4 * H, generator=g, dtype=torch.float64)
    w_hh = torch.randn(4 * H, H, generator=g, dtype=torch.float64) * 0.5
    b_hh = torch.randn(4 * H, generator=g, dtype=torch.float64)
    return x_proj, w_hh, b_hh


def test_constant_error_carousel_direct_jacobian_is_diag_forget_gate():
    """13.5: with the gates held fixed (h_{t-1} given), dC_t/dC_{t-1} = diag(f_t)."""
    x_proj, w_hh, b_hh = _lstm_weights()
    h_prev = torch.randn(1, H, dtype=torch.float64)
    c_prev = torch.randn(1, H, dtype=torch.float64)
    direct = torch.autograd.functional.jacobian(
        lambda c: lstm_cell(x_proj, h_prev, c, w_hh, b_hh)[1], c_prev
    ).reshape(H, H)
    _, forget, _, _ = lstm_gates(x_proj, h_prev, w_hh, b_hh)
    assert torch.allclose(direct, torch.diag(forget[0]), atol=1e-12)
    assert torch.all((forget > 0) & (forget < 1))  # the carousel's factor is the gate itself


def test_total_derivative_through_h_differs_from_diag_forget_gate():
    """The total derivative adds the path C_{t-1} -> h_{t-1} = o ⊙ tanh(C_{t-1}) -> gates:
    not diagonal, and not diag(f_t) (SCIENCE.md: report it separately)."""
    x_proj, w_hh, b_hh = _lstm_weights(1)
    o_prev = torch.rand(1, H, dtype=torch.float64)
    c_prev = torch.randn(1, H, dtype=torch.float64)

    def step(c: torch.Tensor) -> torch.Tensor:
        return lstm_cell(x_proj, o_prev * torch.tanh(c), c, w_hh, b_hh)[1]

    total = torch.autograd.functional.jacobian(step, c_prev).reshape(H, H)
    _, forget, _, _ = lstm_gates(x_proj, o_prev * torch.tanh(c_prev), w_hh, b_hh)
    off_diagonal = total - torch.diag(torch.diagonal(total))
    assert off_diagonal.abs().max() > 1e-3
    assert not torch.allclose(torch.diagonal(total), forget[0], atol=1e-6)


@pytest.mark.parametrize("impl", ["fused", "explicit"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_unroll_reproduces_the_models_own_outputs(cell, impl):
    recurrent = Recurrent(cell, X, H, num_layers=2, impl=impl)
    x = torch.randn(3, 7, X)
    with torch.no_grad():
        expected = recurrent(x).outputs
    unrolled = unroll(recurrent, x)
    assert torch.allclose(unrolled.outputs, expected, atol=1e-5)
    assert len(unrolled.hidden) == 7
    assert (unrolled.forget is not None) == (cell == "lstm")


def _tagger(cell: str, **options) -> RecurrentTagger:
    config = RNNConfig(cell=cell, embedding_size=4, hidden_size=H, **options)
    return RecurrentTagger(10, 3, config)


def test_gradient_norms_match_autograd_on_the_states():
    """||dL/dh_t|| by distance equals retain_grad on a hand-unrolled model, loss at the last
    step only."""
    torch.manual_seed(0)
    model = _tagger("rnn")
    tokens = torch.randint(0, 10, (4, 9))
    targets = torch.randint(0, 3, (4, 9))
    rows = gradient_norms(model, {"inputs": tokens, "targets": targets}, "last_step")
    w_ih, w_hh, b_ih, b_hh = (
        getattr(model.encoder.rnn, n)
        for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    )
    h = torch.zeros(4, H)
    states = []
    for x_t in model.embedding(tokens).unbind(1):
        h = torch.tanh(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        h.retain_grad()
        states.append(h)
    torch.nn.functional.cross_entropy(model.head(states[-1]), targets[:, -1]).backward()
    expected = [float(s.grad.norm(dim=-1).mean()) for s in reversed(states)]
    assert [r["distance"] for r in rows] == list(range(9))
    assert [r["grad_norm"] for r in rows] == pytest.approx(expected, rel=1e-5)
    assert "cell_grad_norm" not in rows[0]


def test_lstm_rows_have_cell_path_and_forget_gate_from_its_bias():
    torch.manual_seed(0)
    batch = {"inputs": torch.randint(0, 10, (8, 12)), "targets": torch.randint(0, 3, (8, 12))}
    rows = {
        bias: gradient_norms(_tagger("lstm", forget_bias=bias), batch, "last_step")
        for bias in (0.0, 3.0)
    }
    for table in rows.values():
        assert all(0 < r["forget_gate"] < 1 for r in table)
        assert all(r["cell_grad_norm"] >= 0 for r in table)
    assert rows[3.0][5]["forget_gate"] > 0.9 > rows[0.0][5]["forget_gate"]
    # a larger forget bias carries the gradient further back along the cell state
    ratio = {b: t[10]["cell_grad_norm"] / t[1]["cell_grad_norm"] for b, t in rows.items()}
    assert ratio[3.0] > 10 * ratio[0.0]


def test_padded_sequences_count_distance_from_their_own_last_position():
    torch.manual_seed(0)
    config = RNNConfig(cell="gru", embedding_size=4, hidden_size=H)
    model = RecurrentClassifier(10, 2, config)
    batch = {
        "inputs": torch.randint(1, 10, (2, 6)),
        "lengths": torch.tensor([6, 3]),
        "labels": torch.tensor([0, 1]),
    }
    rows = gradient_norms(model, batch, "task")
    assert [r["distance"] for r in rows] == list(range(6))
    short = gradient_norms(
        model,
        {
            **batch,
            "inputs": batch["inputs"][1:, :3],
            "lengths": batch["lengths"][1:],
            "labels": batch["labels"][1:],
        },
        "task",
    )
    assert short[0]["grad_norm"] > 0 and len(short) == 3


def test_decay_rate_recovers_a_geometric_law():
    rows = [{"distance": d, "grad_norm": 2.0 * 0.5**d} for d in range(30)]
    assert decay_rate(rows, 20) == pytest.approx(0.5)
    rows = [{"distance": d, "grad_norm": 1.3**d} for d in range(30)]
    assert decay_rate(rows, 20) == pytest.approx(1.3)


def test_gradient_flow_run_writes_csv_and_tensorboard_figure(tmp_path):
    overrides = [
        *tiny("lstm", "copy"),
        "trainer.limit_train_batches=3",
        "diagnostics.gradient_flow=true",
        "diagnostics.every_n_steps=2",
        "diagnostics.loss=last_step",
    ]
    train(overrides, tmp_path)
    with (tmp_path / "gradient_flow.csv").open() as handle:
        header = next(csv.reader(handle))
    assert header == ["step", "distance", "grad_norm", "cell_grad_norm", "forget_gate"]
    curves = read_gradient_flow(tmp_path)
    assert sorted(curves) == [0, 2, 3]  # before the first update, every 2 steps, the end
    length = 5 + 2 * 3  # delay + 2 * n_recall
    assert [r["distance"] for r in curves[0]] == list(range(length))
    assert all(math.isfinite(r["grad_norm"]) and r["grad_norm"] >= 0 for r in curves[0])
    events = EventAccumulator(str(tmp_path / "tensorboard")).Reload()
    assert "diagnostics/gradient_flow" in events.Tags()["images"]


def test_diagnostics_options_are_checked():
    with pytest.raises(ConfigError, match="diagnostics.loss"):
        DiagnosticsConfig(loss="first")
    with pytest.raises(ConfigError, match="every_n_steps"):
        DiagnosticsConfig(every_n_steps=0)


@pytest.mark.parametrize(
    ("model", "task", "option", "message"),
    [
        ("bow", "sentiment", "diagnostics.gradient_flow=true", "not one"),
        ("bi", "copy", "diagnostics.gradient_flow=true", "unidirectional"),
        ("seq2seq", "translation", "diagnostics.gradient_flow=true", "not one"),
        ("seq2seq", "translation", "diagnostics.attention_maps=2", "has no attention"),
        ("lstm", "copy", "diagnostics.attention_maps=2", "has no attention"),
        ("lstm", "copy", "diagnostics.loss=first", "diagnostics.loss"),
    ],
)
def test_diagnostics_the_model_cannot_give_are_refused_before_running(
    model, task, option, message, capsys
):
    cfg = compose_config([*tiny(model, task), option])
    err = clean_error(lambda: plan_run(cfg), capsys)
    assert message in err


def test_gradient_flow_on_a_sequence_task(tmp_path):
    overrides = [*tiny("gru", "sentiment"), "diagnostics.gradient_flow=true"]
    train(overrides, tmp_path)
    rows = read_gradient_flow(tmp_path)[0]
    assert rows[0]["distance"] == 0 and rows[0]["grad_norm"] > 0


def test_gradient_flow_with_truncated_bptt_records_at_each_interval(tmp_path):
    """A TBPTT batch makes several optimizer steps: records land on the first batch at or
    past each multiple of every_n_steps."""
    overrides = [
        *tiny("lstm", "copy"),
        "training.tbptt_steps=4",  # 11 steps -> 3 chunks -> 3 optimizer steps per batch
        "diagnostics.gradient_flow=true",
        "diagnostics.every_n_steps=4",
    ]
    train(overrides, tmp_path)
    assert sorted(read_gradient_flow(tmp_path)) == [0, 6, 9]  # batches start at 0, 3, 6
