"""Scheduled sampling for the fixed-context decoder, with the work that does not depend on
the model's own predictions taken out of the step loop.

With a ratio below 1 the decoder must run one step at a time, because an input may be the
model's previous prediction. Calling ``nn.LSTM`` on length-1 inputs leaves oneDNN's
whole-sequence kernel and cost 1.5x the teacher-forced step (scripts/benchmark.py). Here the
loop holds only what has to be sequential:

* the input projection ``W_ih [E y_{i-1}; c] + b_ih`` is split into a token part, looked up
  from a table ``E W_e^T`` computed once per batch (one row per target word), and a context
  part ``W_c c + b_ih`` computed once per sequence;
* per step: the recurrent cell (seqlab's gate-level equations, seqlab/models/cells.py) and,
  without gradient, the logits needed to pick the next input;
* after the loop, the output layer runs once over all steps, with gradient.

The result equals :meth:`Seq2Seq.forward_sampled`'s step-by-step definition (Bengio et al.
2015) to float32 rounding; tests/test_seq2seq_model.py checks logits and gradients.
"""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.models.recurrent import Recurrent, State, layer_parameters, split_state, stack_step


class FixedContextModel(Protocol):
    """What this decoder reads of a fixed-context Seq2Seq (seqlab.models.encoder_decoder)."""

    target_embedding: nn.Embedding
    decoder: Recurrent
    output: nn.Linear
    layers: int
    hidden_size: int
    cell: str


class EncodedSource(Protocol):
    """The encoder's memory; a fixed-context decoder reads only the context (B, K)."""

    context: Tensor


def sampled_fixed_context(
    model: FixedContextModel,
    memory: EncodedSource,
    state: State,
    tgt_in: Tensor,
    use_truth: Tensor,
    never_fed: Tensor,
) -> Tensor:
    """Decode with scheduled sampling, for a fixed-context decoder without active dropout
    (the caller keeps the step-by-step loop when dropout is on in training).

    tgt_in (B, T) = <bos> y_1 .. y_{T-1}; use_truth (B, T) bool: feed the true previous token
    (else the model's own argmax, no gradient through the choice); never_fed: token ids the
    argmax may not pick (padding, <bos>). Returns logits (B, T, V).
    """
    embedding = model.target_embedding
    width = embedding.embedding_dim
    layers = [layer_parameters(model.decoder.rnn, layer) for layer in range(model.layers)]
    w_ih0, _, b_ih0, _ = layers[0]
    context = memory.context  # (B, K)
    context_gates = F.linear(context, w_ih0[:, width:], b_ih0)  # (B, G*H), once per sequence
    batch, steps = tgt_in.shape
    if embedding.num_embeddings <= batch * steps:
        token_gates = F.linear(embedding.weight, w_ih0[:, :width])  # (V, G*H), once per batch

        def input_gates(tokens: Tensor) -> Tensor:
            return token_gates[tokens] + context_gates

    else:  # a vocabulary larger than the batch: project the fed words step by step

        def input_gates(tokens: Tensor) -> Tensor:
            return F.linear(embedding(tokens), w_ih0[:, :width]) + context_gates

    hidden, cell_state = split_state(state)
    # The no-gradient logits that choose the next input: W_o [s_i; c; E y_{i-1}] + b split
    # into its three blocks, the context block computed once.
    out_w = model.output.weight.detach()
    size = model.hidden_size
    out_state, out_context, out_word = out_w.split([size, context.size(-1), width], dim=-1)
    context_logits = F.linear(context.detach(), out_context, model.output.bias.detach())
    word_logits = F.linear(embedding.weight.detach(), out_word)  # (V, V_out)

    fed, tops = [], []
    prev = tgt_in[:, 0]
    for t, (truth, feed_truth) in enumerate(
        zip(tgt_in.unbind(1), use_truth.unbind(1), strict=True)
    ):
        if t > 0:
            with torch.no_grad():
                logits = context_logits + F.linear(tops[-1].detach(), out_state) + word_logits[prev]
                own = logits.index_fill_(-1, never_fed, float("-inf")).argmax(-1)
            prev = torch.where(feed_truth, truth, own)
        fed.append(prev)
        x_proj = input_gates(prev)
        stack_step(model.cell, layers, x_proj, hidden, cell_state)
        tops.append(hidden[-1])
    outputs = torch.stack(tops, 1)  # (B, T, H)
    embedded = embedding(torch.stack(fed, 1))  # (B, T, E): the words fed
    expanded = context.unsqueeze(1).expand(-1, steps, -1)
    return model.output(torch.cat([outputs, expanded, embedded], -1))
