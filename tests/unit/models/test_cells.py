"""seqlab's gate-level cells equal PyTorch's fused modules on the same weights."""

from __future__ import annotations

import itertools

import pytest
import torch

from seqlab.models.recurrent import Recurrent

CASES = list(itertools.product(("rnn", "lstm", "gru"), (False, True), (1, 2)))


def _pair(cell: str, bidirectional: bool, layers: int) -> tuple[Recurrent, Recurrent]:
    fused = Recurrent(cell, 5, 7, num_layers=layers, bidirectional=bidirectional, impl="fused")
    explicit = Recurrent(
        cell, 5, 7, num_layers=layers, bidirectional=bidirectional, impl="explicit"
    )
    explicit.load_state_dict(fused.state_dict())  # same parameter names and shapes
    return fused, explicit


def _outputs_and_grads(model: Recurrent, x: torch.Tensor, lengths: torch.Tensor | None):
    x = x.clone().requires_grad_(True)
    result = model(x, lengths)
    state = result.state if isinstance(result.state, tuple) else (result.state,)
    loss = (
        result.outputs.sin().sum() + result.last.cos().sum() + sum(s.square().sum() for s in state)
    )
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    return result, x.grad, grads


@pytest.mark.parametrize(("cell", "bidirectional", "layers"), CASES)
def test_explicit_equals_fused_outputs_and_gradients(cell, bidirectional, layers):
    fused, explicit = _pair(cell, bidirectional, layers)
    assert [n for n, _ in fused.named_parameters()] == [n for n, _ in explicit.named_parameters()]
    x = torch.randn(3, 6, 5)
    out_f, gx_f, g_f = _outputs_and_grads(fused, x, None)
    out_e, gx_e, g_e = _outputs_and_grads(explicit, x, None)
    torch.testing.assert_close(out_e.outputs, out_f.outputs, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out_e.last, out_f.last, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out_e.state, out_f.state, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(gx_e, gx_f, rtol=1e-4, atol=1e-5)
    for name in g_f:
        torch.testing.assert_close(g_e[name], g_f[name], rtol=1e-4, atol=1e-5, msg=name)


@pytest.mark.parametrize(("cell", "bidirectional", "layers"), CASES)
def test_padded_batch_matches_each_sequence_alone(cell, bidirectional, layers):
    """Trailing padding changes nothing at real positions, in either direction or impl."""
    fused, explicit = _pair(cell, bidirectional, layers)
    lengths = torch.tensor([6, 2, 4])
    x = torch.randn(3, 6, 5)
    x[1, 2:] = 99.0  # garbage in the padding must not leak into real positions
    x[2, 4:] = -99.0
    for model in (fused, explicit):
        batched = model(x, lengths)
        for i, n in enumerate(lengths.tolist()):
            alone = model(x[i : i + 1, :n])
            torch.testing.assert_close(
                batched.outputs[i, :n], alone.outputs[0], rtol=1e-5, atol=1e-5
            )
            torch.testing.assert_close(batched.last[i], alone.last[0], rtol=1e-5, atol=1e-5)


def test_forget_bias_and_orthogonal_init():
    model = Recurrent(
        "lstm", 4, 8, forget_bias=1.0, recurrent_init="orthogonal", recurrent_gain=0.5
    )
    total_forget_bias = model.rnn.bias_ih_l0[8:16] + model.rnn.bias_hh_l0[8:16]
    torch.testing.assert_close(total_forget_bias, torch.ones(8))
    for block in model.rnn.weight_hh_l0.split(8):
        torch.testing.assert_close(block @ block.T, 0.25 * torch.eye(8), atol=1e-5, rtol=0)


def test_parameter_count_ordering_rnn_gru_lstm():
    counts = {
        c: sum(p.numel() for p in Recurrent(c, 16, 32).parameters()) for c in ("rnn", "gru", "lstm")
    }
    assert counts["rnn"] < counts["gru"] < counts["lstm"]
    assert counts["gru"] == 3 * counts["rnn"] and counts["lstm"] == 4 * counts["rnn"]


def test_unknown_cell_is_refused():
    with pytest.raises(ValueError, match="unknown cell 'transformer'"):
        Recurrent("transformer", 4, 4)
