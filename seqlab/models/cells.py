"""Gate-level recurrent cells written as the textbook equations.

Each cell takes one time step. Parameters follow PyTorch's layout exactly (gate order
i, f, g, o for the LSTM and r, z, n for the GRU, two bias vectors), so the weights of an
``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` load into :class:`seqlab.models.recurrent.ExplicitRNN`
unchanged and the two give the same outputs and gradients.

For speed the input projection ``W_ih x_t + b_ih`` is computed for all steps at once by the
caller (one large matrix multiply) and handed in as ``x_proj``; only the recurrent part runs
per step.

Shapes: ``x_proj`` (B, G*H) with G = 1 (RNN), 4 (LSTM), 3 (GRU); ``h``, ``c`` (B, H).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def rnn_tanh_cell(x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor) -> Tensor:
    """h_t = tanh(W_xh x_t + b_xh + W_hh h_{t-1} + b_hh)."""
    return torch.tanh(x_proj + F.linear(h, w_hh, b_hh))


def lstm_gates(
    x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The LSTM's input gate i, forget gate f, candidate C~ and output gate o, each (B, H):
    f, i, o = σ(W·[h_{t-1}, x_t] + b); C~ = tanh(W_C·[h_{t-1}, x_t] + b_C)."""
    i, f, g, o = (x_proj + F.linear(h, w_hh, b_hh)).chunk(4, dim=-1)
    return torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)


def lstm_cell(
    x_proj: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor
) -> tuple[Tensor, Tensor]:
    """One LSTM step (gates: :func:`lstm_gates`, update: :func:`lstm_update`)."""
    return lstm_update(lstm_gates(x_proj, h, w_hh, b_hh), c)


def lstm_update(gates: tuple[Tensor, Tensor, Tensor, Tensor], c: Tensor) -> tuple[Tensor, Tensor]:
    """From the gates (i, f, C~, o) and C_{t-1}: C_t = f ⊙ C_{t-1} + i ⊙ C~;
    h_t = o ⊙ tanh(C_t). Returns (h_t, C_t)."""
    input_gate, forget_gate, candidate, output_gate = gates
    c_new = forget_gate * c + input_gate * candidate
    return output_gate * torch.tanh(c_new), c_new


def gru_cell(x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor) -> Tensor:
    """One GRU step (Cho et al. 2014, PyTorch's variant with the reset gate after W_hn).

    r = σ(W_ir x + b_ir + W_hr h + b_hr); z = σ(W_iz x + b_iz + W_hz h + b_hz);
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)); h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}.
    """
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, dim=-1)
    reset = torch.sigmoid(x_r + h_r)
    update = torch.sigmoid(x_z + h_z)
    candidate = torch.tanh(x_n + reset * h_n)
    return (1.0 - update) * candidate + update * h


def cell_step(
    cell: str, x_proj: Tensor, h: Tensor, c: Tensor | None, w_hh: Tensor, b_hh: Tensor
) -> tuple[Tensor, Tensor | None]:
    """One step of the named cell (rnn | lstm | gru): new h and, for the LSTM, new c (else
    None)."""
    if cell == "lstm":
        assert c is not None
        return lstm_cell(x_proj, h, c, w_hh, b_hh)
    if cell == "gru":
        return gru_cell(x_proj, h, w_hh, b_hh), None
    return rnn_tanh_cell(x_proj, h, w_hh, b_hh), None
