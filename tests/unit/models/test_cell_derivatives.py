"""The hand-written cell derivatives (seqlab/models/cell_derivatives.py) against autograd
through the textbook cells (seqlab/models/cells.py), in float64."""

from __future__ import annotations

import pytest
import torch

from seqlab.models.cell_derivatives import cell_backward, cell_forward
from seqlab.models.cells import GATES, cell_step


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_one_step_forward_and_backward_equal_autograd_through_the_cells(cell):
    torch.manual_seed(0)
    batch, hidden = 3, 5
    width = GATES[cell] * hidden
    x_proj = torch.randn(batch, width, dtype=torch.float64, requires_grad=True)
    h_prev = torch.randn(batch, hidden, dtype=torch.float64, requires_grad=True)
    c_prev = torch.randn(batch, hidden, dtype=torch.float64, requires_grad=True)
    w_hh = torch.randn(width, hidden, dtype=torch.float64, requires_grad=True)
    b_hh = torch.randn(width, dtype=torch.float64, requires_grad=True)
    d_h, d_c = torch.randn(batch, hidden, dtype=torch.float64), torch.randn(batch, hidden).double()
    lstm = cell == "lstm"

    h_ref, c_ref = cell_step(cell, x_proj, h_prev, c_prev if lstm else None, w_hh, b_hh)
    loss = (h_ref * d_h).sum() + ((c_ref * d_c).sum() if lstm else 0.0)
    refs = torch.autograd.grad(loss, [x_proj, h_prev, c_prev, w_hh, b_hh], allow_unused=True)

    with torch.no_grad():
        recurrent = torch.nn.functional.linear(h_prev, w_hh, b_hh)
        h, c, kept = cell_forward(cell, x_proj, recurrent, h_prev, c_prev if lstm else None)
        d_x, d_recurrent, direct, d_c_prev = cell_backward(
            cell, d_h, d_c if lstm else None, h, h_prev, c_prev if lstm else None, kept
        )
    torch.testing.assert_close(h, h_ref, rtol=1e-12, atol=1e-14)
    if lstm:
        torch.testing.assert_close(c, c_ref, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(d_c_prev, refs[2], rtol=1e-12, atol=1e-14)
    else:
        assert c is None and d_c_prev is None
    d_h_prev = d_recurrent @ w_hh + (0 if direct is None else direct)
    torch.testing.assert_close(d_x, refs[0], rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(d_h_prev, refs[1], rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(d_recurrent.t() @ h_prev, refs[3], rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(d_recurrent.sum(0), refs[4], rtol=1e-12, atol=1e-14)
