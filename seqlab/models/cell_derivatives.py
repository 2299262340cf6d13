"""The gate-level cells of seqlab/models/cells.py one step forward, keeping what their
derivatives need, and one step backward, written out by hand.

For a decoder loop that is its own autograd function (seqlab/models/attention_decoder.py):
the forward runs without recording a graph and keeps each step's activations; the backward
walks the steps in reverse with these derivatives and leaves the weight gradients to one
matrix multiply over all steps afterwards.

Shapes: ``x_proj``, ``recurrent`` (B, G*H), the input and the recurrent projection with their
biases (G = 1 RNN, 4 LSTM, 3 GRU); ``h``, ``c`` (B, H).

* RNN: h = tanh(x + r). Kept: nothing (the caller keeps h).
* GRU (PyTorch's variant): r = σ(x_r + r_r), z = σ(x_z + r_z), n = tanh(x_n + r ⊙ r_n),
  h = (1 − z) ⊙ n + z ⊙ h_prev. Kept: r, z, n, r_n.
* LSTM: i, f, o = σ(·), g = tanh(·) of x + r; c = f ⊙ c_prev + i ⊙ g; h = o ⊙ tanh(c).
  Kept: i, f, g, o, tanh(c).
"""

from __future__ import annotations

import torch
from torch import Tensor

Kept = tuple[Tensor, ...]


def cell_forward(
    cell: str, x_proj: Tensor, recurrent: Tensor, h_prev: Tensor, c_prev: Tensor | None
) -> tuple[Tensor, Tensor | None, Kept]:
    """One step: the new h, the new c (LSTM; else None) and the activations the backward
    needs."""
    if cell == "gru":
        x_rz, x_n = x_proj.split([2 * h_prev.size(-1), h_prev.size(-1)], -1)
        r_rz, recurrent_n = recurrent.split([2 * h_prev.size(-1), h_prev.size(-1)], -1)
        reset, update = torch.sigmoid(x_rz + r_rz).chunk(2, -1)
        candidate = torch.tanh(torch.addcmul(x_n, reset, recurrent_n))
        return (
            torch.addcmul(candidate, update, h_prev - candidate),
            None,
            (
                reset,
                update,
                candidate,
                recurrent_n,
            ),
        )
    if cell == "lstm":
        assert c_prev is not None
        pre = x_proj + recurrent
        input_gate, forget_gate, _, output_gate = torch.sigmoid(pre).chunk(4, -1)
        candidate = torch.tanh(pre.chunk(4, -1)[2])
        c = torch.addcmul(forget_gate * c_prev, input_gate, candidate)
        tanh_c = torch.tanh(c)
        return output_gate * tanh_c, c, (input_gate, forget_gate, candidate, output_gate, tanh_c)
    return torch.tanh(x_proj + recurrent), None, ()


def cell_backward(
    cell: str,
    d_h: Tensor,
    d_c: Tensor | None,
    h: Tensor,
    h_prev: Tensor,
    c_prev: Tensor | None,
    kept: Kept,
) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
    """One step back from dL/dh (and dL/dc for the LSTM): returns dL/dx_proj and
    dL/drecurrent (B, G*H), the part of dL/dh_prev that does not go through the recurrent
    projection (GRU: z ⊙ dh; else None) and dL/dc_prev (LSTM; else None)."""
    if cell == "gru":
        reset, update, candidate, recurrent_n = kept
        d_pre_n = d_h * (1 - update) * (1 - candidate * candidate)
        d_pre_z = d_h * (h_prev - candidate) * update * (1 - update)
        d_pre_r = d_pre_n * recurrent_n * reset * (1 - reset)
        d_x = torch.cat([d_pre_r, d_pre_z, d_pre_n], -1)
        d_recurrent = torch.cat([d_pre_r, d_pre_z, d_pre_n * reset], -1)
        return d_x, d_recurrent, d_h * update, None
    if cell == "lstm":
        assert d_c is not None and c_prev is not None
        input_gate, forget_gate, candidate, output_gate, tanh_c = kept
        d_c_total = d_c + d_h * output_gate * (1 - tanh_c * tanh_c)
        d_pre = torch.cat(
            [
                d_c_total * candidate * input_gate * (1 - input_gate),
                d_c_total * c_prev * forget_gate * (1 - forget_gate),
                d_c_total * input_gate * (1 - candidate * candidate),
                d_h * tanh_c * output_gate * (1 - output_gate),
            ],
            -1,
        )
        return d_pre, d_pre, None, d_c_total * forget_gate
    d_pre = d_h * (1 - h * h)
    return d_pre, d_pre, None, None
