"""Truncated BPTT: gradients stop at chunk boundaries; a full-length window is full BPTT."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from seqlab.models.recurrent import RecurrentConfig
from seqlab.models.rnn import RecurrentTagger
from seqlab.objectives.tbptt import run_truncated_bptt

T, K = 12, 4


def _model(cell: str = "lstm") -> RecurrentTagger:
    torch.manual_seed(0)
    return RecurrentTagger(9, 5, RecurrentConfig(cell=cell, embedding_size=6, hidden_size=8))


def _input_gradients(
    model: RecurrentTagger, inputs: torch.Tensor, steps: int | None, loss_position: int
) -> torch.Tensor:
    """|d loss_at(loss_position) / d embedded input| per position, under TBPTT."""
    embedded: list[torch.Tensor] = []

    def keep(_module, _args, output):
        output.retain_grad()
        embedded.append(output)

    handle = model.embedding.register_forward_hook(keep)
    targets = torch.zeros_like(inputs)

    def chunk_loss(logits, start, end):
        if start <= loss_position < end:
            return F.cross_entropy(logits[:, loss_position - start], targets[:, loss_position])
        return logits.sum() * 0.0

    run_truncated_bptt(model, inputs, steps, chunk_loss, lambda loss: loss.backward())
    handle.remove()
    grads = torch.cat([e.grad for e in embedded], dim=1)  # (B, T, E)
    return grads.abs().sum(dim=(0, 2))


def test_no_gradient_reaches_further_back_than_the_window():
    model = _model()
    inputs = torch.randint(0, 9, (2, T))
    for t in range(T):
        grad = _input_gradients(model, inputs, K, t)
        chunk_start = (t // K) * K
        assert torch.all(grad[:chunk_start] == 0), t  # before the chunk: nothing
        assert torch.all(grad[: max(0, t - K + 1)] == 0)  # never more than K-1 steps back
        assert torch.all(grad[chunk_start : t + 1] > 0), t  # inside the chunk: everything
        assert torch.all(grad[t + 1 :] == 0)  # the model is causal


def test_window_equal_to_length_gives_full_bptt_gradients():
    for cell in ("rnn", "lstm", "gru"):
        inputs = torch.randint(0, 9, (3, T))
        targets = torch.randint(0, 5, (3, T))

        def chunk_loss(lg, s, e, targets=targets):
            return F.cross_entropy(lg.flatten(0, 1), targets[:, s:e].flatten())

        full = _model(cell)
        logits, _ = full(inputs)
        F.cross_entropy(logits.flatten(0, 1), targets.flatten()).backward()
        truncated = _model(cell)
        run_truncated_bptt(truncated, inputs, T, chunk_loss, lambda loss: loss.backward())
        for (name, p), q in zip(full.named_parameters(), truncated.parameters(), strict=True):
            torch.testing.assert_close(q.grad, p.grad, msg=name)


def test_state_is_carried_forward_between_chunks():
    """Outputs of a chunked forward equal the full forward (only gradients are cut)."""
    model = _model()
    inputs = torch.randint(0, 9, (2, T))
    full, _ = model(inputs)
    chunks = []
    run_truncated_bptt(
        model,
        inputs,
        K,
        lambda lg, s, e: chunks.append(lg.detach()) or lg.sum() * 0,
        lambda loss: None,
    )
    torch.testing.assert_close(torch.cat(chunks, 1), full.detach())
