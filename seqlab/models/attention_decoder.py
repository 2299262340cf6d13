"""The attention decoder under teacher forcing, with everything that does not depend on the
previous decoder state taken out of the step loop.

RNNsearch (Bahdanau et al. 2014) must step one position at a time: the context c_i comes
from attention over the source with the previous state s_{i-1} as the query. Calling the
fused ``nn.GRU`` on length-1 inputs at every step costs a kernel set-up per step, and
``W_ih [E y_{i-1}; c_i] + b_ih`` recomputes the word part each time. Here the loop holds only
what has to be sequential:

* the keys U_a h_j + b are projected once per batch (seqlab.models.encoder_decoder.encode);
* the word part of the input projection, W_e E y_{i-1} + b_ih, is computed for all steps at
  once (one matrix multiply), and the context part W_c c_i once per step;
* per step: the query projection W_a s_{i-1}, the energies, the softmax, the context, and
  the recurrent cell as seqlab's gate-level equations (seqlab/models/cells.py);
* after the loop, the caller's output layer runs once over all steps.

The equations are those of the step loop (:meth:`Seq2Seq.step`); the results equal it to
floating-point rounding (tests/unit/models/test_encoder_decoder.py compares logits and
gradients in float64).
"""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.models.attention import AdditiveAttention
from seqlab.models.recurrent import Recurrent, State, layer_parameters, split_state, stack_step


class AttentionModel(Protocol):
    """What this decoder reads of an attention Seq2Seq (seqlab.models.encoder_decoder)."""

    decoder: Recurrent
    attention: AdditiveAttention | None
    layers: int
    cell: str


class EncodedSource(Protocol):
    """The encoder's memory: outputs h_j (B, S, K), projected keys U_a h_j + b (B, S, A),
    mask (B, S) True at real positions."""

    outputs: Tensor
    keys: Tensor | None
    mask: Tensor


def attention_teacher_forced(
    model: AttentionModel, memory: EncodedSource, state: State, embedded: Tensor
) -> Tensor:
    """embedded (B, T, E): the true previous words, embedded (dropout applied); state: the
    decoder's initial state. Returns the output features [s_i; c_i; E y_{i-1}] (B, T, H+K+E)
    of every step, as the step loop computes them. For a decoder without dropout between its
    layers (one layer, dropout 0, or evaluation): nn.GRU/nn.LSTM draw that dropout with their
    own random numbers, which a gate-level loop cannot reproduce."""
    attention = model.attention
    assert attention is not None and memory.keys is not None
    width = embedded.size(-1)
    layers = [layer_parameters(model.decoder.rnn, layer) for layer in range(model.layers)]
    w_ih0, _, b_ih0, _ = layers[0]
    word_gates = F.linear(embedded, w_ih0[:, :width], b_ih0)  # (B, T, G*H), all steps at once
    w_context = w_ih0[:, width:]
    w_query, w_score = attention.query_proj.weight, attention.score.weight
    keys, values = memory.keys, memory.outputs
    blocked = torch.zeros(memory.mask.shape, dtype=keys.dtype, device=keys.device)
    blocked = blocked.masked_fill(~memory.mask, float("-inf"))  # added to the energies
    hidden, cell_state = split_state(state)
    tops, contexts = [], []
    for word_gates_t in word_gates.unbind(1):
        query = F.linear(hidden[-1], w_query)  # W_a s_{i-1} (B, A)
        energies = F.linear(torch.tanh(query.unsqueeze(1) + keys), w_score).squeeze(-1)
        weights = torch.softmax(energies + blocked, dim=-1)  # α_i (B, S)
        context = torch.bmm(weights.unsqueeze(1), values).squeeze(1)  # c_i (B, K)
        x_proj = word_gates_t + F.linear(context, w_context)
        stack_step(model.cell, layers, x_proj, hidden, cell_state)
        tops.append(hidden[-1])
        contexts.append(context)
    return torch.cat([torch.stack(tops, 1), torch.stack(contexts, 1), embedded], -1)


def runs_fused_dropout(model: nn.Module, dropout: float, layers: int) -> bool:
    """Whether the decoder draws dropout between its layers now (training, dropout > 0 and
    more than one layer): then only the step loop reproduces it."""
    return model.training and dropout > 0 and layers > 1
