"""The attention decoder under teacher forcing, with everything that does not depend on the
previous decoder state taken out of the step loop, and the loop's backward written by hand.

RNNsearch (Bahdanau et al. 2014) must step one position at a time: the context c_i comes
from attention over the source with the previous state s_{i-1} as the query:

    e_ij = v_aᵀ tanh(W_a s_{i-1} + U_a h_j),  α_i = softmax_j(e_i),  c_i = Σ_j α_ij h_j,
    s_i = cell(W_e E y_{i-1} + W_c c_i + b_ih, s_{i-1}).

Out of the loop, once per batch (each one matrix multiply):

* the keys U_a h_j + b (seqlab.models.encoder_decoder.encode);
* the word part of the input projection, W_e E y_{i-1} + b_ih, for all steps;
* the values' part of the context projection, W_c h_j: by linearity W_c c_i = Σ_j α_ij W_c h_j,
  so the loop needs only α_i (one small batched product per step);
* the contexts c_i = Σ_j α_ij h_j of all steps, from the loop's weights, for the output layer.

In the loop: the query W_a s_{i-1} and the top layer's recurrent projection W_hh s_{i-1} as
one multiply, the energies, the softmax, and the cells' equations (seqlab/models/cells.py,
through seqlab/models/cell_derivatives.py). tanh(a) is computed as 2σ(2a) − 1, the same
function: on CPUs PyTorch's σ is several times faster than its tanh over the (B, S, A)
energies, the loop's largest tensor.

The loop is one autograd function (:class:`AdditiveAttentionRecurrence`): its forward records
no graph, keeping each step's activations (lists of tensors), and its backward walks the
steps in reverse; the weight gradients of all steps are then one matrix multiply each. Autograd
would instead record some thirty small operations per step and compute every weight gradient
once per step. The results equal the step loop (:meth:`Seq2Seq.step`) to floating-point
rounding: tests/unit/models/test_encoder_decoder.py compares logits and gradients in float64
for every cell, one to three layers; tests/unit/models/test_attention_decoder.py runs
gradcheck on the function.
"""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from seqlab.models.attention import AdditiveAttention
from seqlab.models.cell_derivatives import cell_backward, cell_forward
from seqlab.models.recurrent import Recurrent, State, layer_parameters, split_state


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
    dtype = w_ih0.dtype
    with torch.autocast(embedded.device.type, enabled=False):  # the loop runs in the weights' dtype
        embedded, values = embedded.to(dtype), memory.outputs.to(dtype)
        word_gates = F.linear(embedded, w_ih0[:, :width], b_ih0)  # (B, T, G*H), all steps
        values_proj = F.linear(values, w_ih0[:, width:])  # W_c h_j (B, S, G*H)
        blocked = torch.zeros(memory.mask.shape, dtype=dtype, device=values.device)
        blocked = blocked.masked_fill(~memory.mask, float("-inf"))  # added to the energies
        hidden, cell_state = split_state(state)
        h0 = torch.stack(hidden).to(dtype)
        c0 = None if cell_state[0] is None else torch.stack(cell_state).to(dtype)  # type: ignore[arg-type]
        weights: list[Tensor | None] = []
        for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(layers):
            weights += [None, w_hh, None, b_hh] if layer == 0 else [w_ih, w_hh, b_ih, b_hh]
        tops, alphas = AdditiveAttentionRecurrence.apply(
            model.cell,
            word_gates,
            memory.keys.to(dtype),
            values_proj,
            blocked,
            h0,
            c0,
            attention.query_proj.weight,
            attention.score.weight,
            *weights,
        )
        contexts = torch.bmm(alphas, values)  # c_i (B, T, K), all steps at once
        return torch.cat([tops, contexts, embedded], -1)


def doubled_sigmoid(keys2: Tensor, query: Tensor, out: Tensor) -> Tensor:
    """σ(2(W_a s + k)) into ``out`` (B, S, A), from keys2 = 2k (B, S, A) and query = W_a s
    (B, A): the forward computes it once a step and the backward again, instead of keeping
    it."""
    return torch.add(keys2, query.unsqueeze(1), alpha=2, out=out).sigmoid_()


class AdditiveAttentionRecurrence(torch.autograd.Function):
    """The sequential part of teacher-forced RNNsearch.

    Inputs: cell (rnn | lstm | gru); word_gates (B, T, G*H) = W_e E y_{i-1} + b_ih; keys
    (B, S, A) = U_a h_j + b; values_proj (B, S, G*H) = W_c h_j; blocked (B, S), 0 at real
    source positions and −inf at padding; h0, c0 (L, B, H) (c0 None but for the LSTM);
    w_query (A, H) = W_a; w_score (1, A) = v_aᵀ; then per layer (w_ih, w_hh, b_ih, b_hh),
    the first layer's w_ih and b_ih None (they are in word_gates and values_proj).

    Outputs: the top layer's states s_i (B, T, H) and the attention weights α_i (B, T, S).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx,
        cell: str,
        word_gates: Tensor,
        keys: Tensor,
        values_proj: Tensor,
        blocked: Tensor,
        h0: Tensor,
        c0: Tensor | None,
        w_query: Tensor,
        w_score: Tensor,
        *weights: Tensor | None,
    ) -> tuple[Tensor, Tensor]:
        layers, top = len(weights) // 4, len(weights) // 4 - 1
        batch, source, attention_size = keys.shape
        gates = word_gates.size(-1)
        w_ih, w_hh, b_ih, b_hh = (weights[i::4] for i in range(4))
        # The query and the top layer's recurrence in one multiply: [W_a; W_hh] s (A + G*H).
        w_joint = torch.cat([w_query, w_hh[top]])  # type: ignore[list-item]
        b_joint = torch.cat([b_hh[top].new_zeros(attention_size), b_hh[top]])  # type: ignore[union-attr]
        # tanh(a) = 2σ(2a) − 1, so e = v_aᵀ tanh(W_a s + k) = (2 v_a)ᵀ σ(2 W_a s + 2k) − Σ v_a.
        keys2, v2 = 2 * keys, 2 * w_score[0]
        offset = (blocked - w_score.sum()).view(-1)
        sigmoid = torch.empty_like(keys)  # σ(2(W_a s + k)) of one step (B, S, A)
        sigmoid_rows = sigmoid.view(-1, attention_size)
        word_rows = word_gates.transpose(0, 1).unsqueeze(2).unbind(0)  # T x (B, 1, G*H)
        states = [[h] for h in h0.unbind(0)]  # per layer s_0 .. s_T, each (B, H)
        cells = [[c] for c in c0.unbind(0)] if c0 is not None else None  # the LSTM's
        kept: list[list[tuple[Tensor, ...]]] = [[] for _ in range(layers)]
        queries, alphas = [], []
        for word_row in word_rows:
            joint = torch.addmm(b_joint, states[top][-1], w_joint.t())
            query, recurrent_top = joint.split([attention_size, gates], -1)
            queries.append(query)
            doubled_sigmoid(keys2, query, out=sigmoid)
            energies = torch.addmv(offset, sigmoid_rows, v2).view(batch, source)
            alpha = torch.softmax(energies, dim=-1)  # α_i (B, S)
            alphas.append(alpha)
            # W_e E y + b_ih + W_c c_i (B, G*H)
            x_proj = torch.baddbmm(word_row, alpha.unsqueeze(1), values_proj).view(batch, gates)
            for layer in range(layers):
                if layer > 0:
                    x_proj = torch.addmm(b_ih[layer], states[layer - 1][-1], w_ih[layer].t())  # type: ignore[arg-type, union-attr]
                recurrent = (
                    recurrent_top
                    if layer == top
                    else torch.addmm(b_hh[layer], states[layer][-1], w_hh[layer].t())  # type: ignore[arg-type, union-attr]
                )
                c_prev = None if cells is None else cells[layer][-1]
                h, c, activations = cell_forward(cell, x_proj, recurrent, states[layer][-1], c_prev)
                states[layer].append(h)
                if cells is not None:
                    cells[layer].append(c)  # type: ignore[arg-type]
                kept[layer].append(activations)
        all_alphas = torch.stack(alphas, 1)  # (B, T, S)
        if any(ctx.needs_input_grad):
            ctx.cell, ctx.states, ctx.cells, ctx.kept, ctx.queries = (
                cell,
                states,
                cells,
                kept,
                queries,
            )
            ctx.save_for_backward(keys, values_proj, all_alphas, w_score, w_joint, *weights)
        return torch.stack(states[top][1:], 1), all_alphas

    @staticmethod
    @once_differentiable
    def backward(ctx, d_tops: Tensor | None, d_alphas: Tensor | None):  # type: ignore[override]
        keys, values_proj, alphas, w_score, w_joint, *weights = ctx.saved_tensors
        cell, states, cells, kept, queries = ctx.cell, ctx.states, ctx.cells, ctx.kept, ctx.queries
        layers, top = len(weights) // 4, len(weights) // 4 - 1
        w_ih, w_hh = weights[0::4], weights[1::4]
        batch, steps, source = alphas.shape
        attention_size = keys.size(-1)
        d_h = [torch.zeros_like(states[0][0]) for _ in range(layers)]
        d_c: list[Tensor | None] = [
            None if cells is None else torch.zeros_like(states[0][0]) for _ in range(layers)
        ]
        d_words: list[Tensor] = []  # dL/dx_proj of the first layer, from the last step back
        d_joints: list[Tensor] = []  # [dL/dquery; dL/drecurrent] of the top layer
        d_recurrents: list[list[Tensor]] = [[] for _ in range(layers)]  # the lower layers'
        d_inputs: list[list[Tensor]] = [[] for _ in range(layers)]  # dL/dx_proj, layers 1..
        d_keys = torch.zeros_like(keys)  # Σ_i dL/de_i ⊙ σ(1 − σ), times 4 v_a at the end
        d_score = keys.new_zeros(batch, 1, attention_size)  # Σ_i Σ_j dL/de_ij σ_ij
        d_energy_sum = torch.zeros_like(alphas[:, 0])
        values_proj_t = values_proj.transpose(1, 2)  # (B, G*H, S)
        v4 = 4 * w_score[0]  # d tanh(a)/da = 1 − tanh² = 4σ(2a)(1 − σ(2a))
        keys2, sigmoid = 2 * keys, torch.empty_like(keys)  # σ(2(W_a s + k)), recomputed
        # σ(1 − σ) (B, S, A), one buffer for every step: a fresh one a step, freed while the
        # step's small gradients stay, leaves a hole the next one does not fit (glibc reuses
        # it for small blocks), and the heap grew by B·S·A floats a step (5.6 GB at T = S = 400)
        slope = torch.empty_like(keys)
        for t in reversed(range(steps)):
            if d_tops is not None:
                d_h[top] = d_h[top] + d_tops[:, t]
            direct: list[Tensor | None] = [None] * layers
            for layer in reversed(range(layers)):
                d_x, d_rec, direct[layer], d_c[layer] = cell_backward(
                    cell,
                    d_h[layer],
                    d_c[layer],
                    states[layer][t + 1],
                    states[layer][t],
                    None if cells is None else cells[layer][t],
                    kept[layer][t],
                )
                d_recurrents[layer].append(d_rec)
                if layer > 0:
                    d_inputs[layer].append(d_x)
                    d_h[layer - 1] = torch.addmm(d_h[layer - 1], d_x, w_ih[layer])  # type: ignore[arg-type]
            d_words.append(d_x)
            # The attention of step t: α_i enters x_proj through Σ_j α_ij W_c h_j.
            alpha = alphas[:, t]
            d_alpha = torch.bmm(d_x.unsqueeze(1), values_proj_t).view(batch, source)
            if d_alphas is not None:
                d_alpha = d_alpha + d_alphas[:, t]
            d_energy = (d_alpha - (alpha * d_alpha).sum(-1, keepdim=True)).mul_(alpha)
            d_energy_sum += d_energy
            doubled_sigmoid(keys2, queries[t], out=sigmoid)
            d_energy_row = d_energy.unsqueeze(1)  # (B, 1, S)
            d_score.baddbmm_(d_energy_row, sigmoid)
            torch.addcmul(sigmoid, sigmoid, sigmoid, value=-1, out=slope)
            d_keys.addcmul_(slope, d_energy.unsqueeze(-1))
            d_query = torch.bmm(d_energy_row, slope).view(batch, attention_size) * v4
            d_joint = torch.cat([d_query, d_recurrents[top][-1]], -1)
            d_joints.append(d_joint)
            # Carry dL/ds_{i-1} of every layer to the step before.
            for layer in range(layers):
                carried, matrix = (
                    (d_joint, w_joint) if layer == top else (d_recurrents[layer][-1], w_hh[layer])
                )
                through = direct[layer]
                d_h[layer] = (
                    torch.mm(carried, matrix)  # type: ignore[arg-type]
                    if through is None
                    else torch.addmm(through, carried, matrix)  # type: ignore[arg-type]
                )

        # Weight gradients: one multiply over all steps each (the lists run from the last
        # step back, so the states are stacked in that order too).
        def flat(rows: list[Tensor]) -> Tensor:
            return torch.stack(rows).flatten(0, 1)

        d_weights: list[Tensor | None] = []
        for layer in range(layers):
            previous = flat(states[layer][-2::-1])  # s_{i-1}, last step first
            if layer == top:
                d_joint_all = flat(d_joints)
                d_joint_w = d_joint_all.t() @ previous
                d_query_w, d_w_hh = d_joint_w[:attention_size], d_joint_w[attention_size:]
                d_b_hh = d_joint_all[:, attention_size:].sum(0)
            else:
                d_rec_all = flat(d_recurrents[layer])
                d_w_hh, d_b_hh = d_rec_all.t() @ previous, d_rec_all.sum(0)
            if layer == 0:
                d_weights += [None, d_w_hh, None, d_b_hh]
            else:
                below = flat(states[layer - 1][:0:-1])  # the layer below's s_i, last first
                d_x_all = flat(d_inputs[layer])
                d_weights += [d_x_all.t() @ below, d_w_hh, d_x_all.sum(0), d_b_hh]
        d_word_gates = torch.stack(d_words[::-1], 1)  # (B, T, G*H)
        d_values_proj = torch.bmm(alphas.transpose(1, 2), d_word_gates)  # Σ_i α_ij dL/dx_i
        d_w_score = (2 * d_score.sum((0, 1)) - d_energy_sum.sum()).unsqueeze(0)  # 2σ − 1
        d_c0 = None if cells is None else torch.stack(d_c)  # type: ignore[arg-type]
        return (
            None,
            d_word_gates,
            d_keys * v4,
            d_values_proj,
            None,
            torch.stack(d_h),
            d_c0,
            d_query_w,
            d_w_score,
            *d_weights,
        )


def runs_fused_dropout(model: nn.Module, dropout: float, layers: int) -> bool:
    """Whether the decoder draws dropout between its layers now (training, dropout > 0 and
    more than one layer): then only the step loop reproduces it."""
    return model.training and dropout > 0 and layers > 1
