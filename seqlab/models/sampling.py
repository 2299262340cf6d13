"""Sampling text from a left-to-right language model: temperature, top-k and nucleus (top-p)
filtering, and a generator that primes the model with a context and draws one token at a
time, carrying the state (constant memory per token)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import Tensor, nn

from seqlab.text.vocab import BOS_ID, PAD_ID, UNK_ID

# Ids a sample never holds: padding and begin-of-sentence are never targets, and <unk> stands
# for no token in particular.
NEVER_DRAWN = (PAD_ID, UNK_ID, BOS_ID)


def filter_logits(logits: Tensor, top_k: int | None = None, top_p: float | None = None) -> Tensor:
    """logits (..., V) -> the same with -inf outside the ``top_k`` most likely tokens and
    outside the smallest set whose probability reaches ``top_p`` (Holtzman et al. 2020; the
    most likely token always stays)."""
    if top_k is not None and top_k < logits.size(-1):
        kth = logits.topk(top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        ordered, order = logits.sort(dim=-1, descending=True)
        cumulative = ordered.softmax(-1).cumsum(-1)
        outside = cumulative - ordered.softmax(-1) >= top_p  # the mass before it is enough
        unsorted = torch.zeros_like(outside).scatter(-1, order, outside)
        logits = logits.masked_fill(unsorted, float("-inf"))
    return logits


def choose_next(
    logits: Tensor,
    temperature: float,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """logits (B, V) -> next tokens (B,): the most likely at temperature 0, else a draw from
    softmax(logits / temperature) after :func:`filter_logits`."""
    if temperature == 0:
        return logits.argmax(-1)
    filtered = filter_logits(logits.float() / temperature, top_k, top_p)
    return torch.multinomial(filtered.softmax(-1), 1, generator=generator).squeeze(-1)


@torch.no_grad()
def sample_tokens(
    model: nn.Module,
    context: Sequence[int],
    max_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
    never: Sequence[int] = (),
) -> Iterator[int]:
    """Token ids drawn one at a time after ``context`` (at least one id), ``max_tokens`` of
    them. model(tokens (1, T), state=...) -> (logits (1, T, V), state); the ``never`` ids
    (padding, begin of sentence) are not drawn. The model's train/eval mode is left as is."""
    device = next(model.parameters()).device
    tokens = torch.tensor([list(context)], dtype=torch.long, device=device)
    logits, state = model(tokens, state=None)
    last = logits[:, -1]
    banned = torch.tensor(list(never), dtype=torch.long, device=device)
    for _ in range(max_tokens):
        if banned.numel():
            last = last.index_fill(-1, banned, float("-inf"))
        token = choose_next(last, temperature, top_k, top_p, generator)
        yield int(token)
        logits, state = model(token.view(1, 1), state=state)
        last = logits[:, -1]
