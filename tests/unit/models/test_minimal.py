"""minGRU and minLSTM: the parallel log-space scan equals the sequential definition (float64,
values and gradients), the state carries across calls, and long sequences stay finite."""

from __future__ import annotations

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.models.minimal import (
    MinimalRNN,
    MinimalRNNConfig,
    MinimalRNNLayer,
    MinimalRNNModel,
    g,
    log_g,
)
from seqlab.spec import NEXT_TOKEN, PER_STEP, SEQUENCE, TaskSpec

CELLS = ["mingru", "minlstm"]


def test_g_is_positive_and_log_g_is_its_log():
    x = torch.linspace(-30, 30, 601, dtype=torch.float64)
    assert (g(x) > 0).all()
    torch.testing.assert_close(log_g(x), g(x).log())


@pytest.mark.parametrize("cell", CELLS)
def test_the_definition_by_hand(cell: str):
    """One layer, two steps, against the paper's equations written out."""
    torch.manual_seed(0)
    layer = MinimalRNNLayer(cell, 3, 2, impl="sequential").double()
    x = torch.randn(1, 2, 3, dtype=torch.float64)
    p = layer.projection(x)[0]
    h = torch.zeros(2, dtype=torch.float64)
    expected = []
    for t in range(2):
        if cell == "mingru":
            z, h_tilde = torch.sigmoid(p[t, :2]), g(p[t, 2:])
            h = (1 - z) * h + z * h_tilde
        else:
            f, i, h_tilde = torch.sigmoid(p[t, :2]), torch.sigmoid(p[t, 2:4]), g(p[t, 4:])
            h = f / (f + i) * h + i / (f + i) * h_tilde
        expected.append(h)
    torch.testing.assert_close(layer(x)[0], torch.stack(expected))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("with_state", [False, True])
def test_the_parallel_scan_equals_the_loop_in_float64(cell: str, with_state: bool):
    torch.manual_seed(1)
    stack = MinimalRNN(cell, 4, 6, num_layers=3, residual=True, layer_norm=True).double()
    x = torch.randn(3, 40, 4, dtype=torch.float64, requires_grad=True)
    state = torch.rand(3, 3, 6, dtype=torch.float64) if with_state else None
    results = {}
    for impl in ("scan", "sequential"):
        for layer in stack.layers:
            layer.impl = impl
        stack.zero_grad()
        x.grad = None
        outputs, _, final = stack(x, None, state)
        outputs.square().sum().backward()
        grads = [p.grad.clone() for p in stack.parameters()]
        results[impl] = (outputs, final, x.grad.clone(), grads)
    scan, loop = results["scan"], results["sequential"]
    torch.testing.assert_close(scan[0], loop[0], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(scan[1], loop[1], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(scan[2], loop[2], rtol=1e-9, atol=1e-11)
    for a, b in zip(scan[3], loop[3], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("cell", CELLS)
def test_the_state_carries_from_one_call_to_the_next(cell: str):
    torch.manual_seed(2)
    stack = MinimalRNN(cell, 4, 5, num_layers=2).double()
    x = torch.randn(2, 30, 4, dtype=torch.float64)
    whole, _, final = stack(x)
    first, _, state = stack(x[:, :17])
    rest, _, final_again = stack(x[:, 17:], None, state)
    torch.testing.assert_close(torch.cat([first, rest], 1), whole)
    torch.testing.assert_close(final_again, final)
    # one token at a time (generation) gives the same
    h, steps = None, []
    for t in range(30):
        out, _, h = stack(x[:, t : t + 1], None, h)
        steps.append(out)
    torch.testing.assert_close(torch.cat(steps, 1), whole)


@pytest.mark.parametrize("cell", CELLS)
def test_a_long_float32_sequence_stays_close_to_the_loop(cell: str):
    torch.manual_seed(3)
    layer = MinimalRNNLayer(cell, 4, 8)
    x = torch.randn(2, 4096, 4)
    scan = layer(x)
    layer.impl = "sequential"
    loop = layer(x)
    assert torch.isfinite(scan).all()
    assert float(((scan - loop).abs() / loop.abs()).max().detach()) < 1e-2


def test_the_model_builds_a_head_for_each_output():
    config = MinimalRNNConfig(cell="minlstm", embedding_size=4, hidden_size=6)
    tagger = config.build(TaskSpec("t", PER_STEP, 9, 3))
    logits, state = tagger(torch.randint(0, 9, (2, 5)))
    assert logits.shape == (2, 5, 3) and state.shape == (1, 2, 6)
    classifier = config.build(TaskSpec("s", SEQUENCE, 9, 2))
    assert classifier(torch.randint(0, 9, (2, 5)), torch.tensor([5, 3])).shape == (2, 2)
    language_model = config.build(TaskSpec("l", NEXT_TOKEN, 9, 9))
    assert isinstance(language_model, MinimalRNNModel) and language_model.head.out_features == 9


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cell": "mingrux"}, "model.cell='mingrux' is unknown"),
        ({"impl": "fused"}, "model.impl='fused' is unknown"),
        ({"hidden_size": 0}, "model.hidden_size must be > 0"),
        ({"dropout": 1.0}, r"model.dropout must be in \[0, 1\)"),
    ],
)
def test_bad_options_are_refused(options: dict, message: str):
    with pytest.raises(ConfigError, match=message):
        MinimalRNNConfig(**options)
