"""Batched decoding for :class:`seqlab.models.encoder_decoder.Seq2Seq`: greedy and beam
search, and the ``decoding`` options that choose between them."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from seqlab.config import require_at_least, require_finite
from seqlab.errors import ConfigError
from seqlab.models.encoder_decoder import Seq2Seq, reorder_state
from seqlab.tasks.vocab import BOS_ID, EOS_ID, PAD_ID


@dataclass
class DecodingConfig:
    """The ``decoding`` options (test decoding; validation always decodes greedily).

    beam_size: 1 = greedy. length_penalty: GNMT alpha for beam search (0 = plain
    log-probability). max_length: longest output; null = 2 * source length + 10.
    bucket_width: BLEU by source length in buckets 1..w, w+1..2w, ...
    """

    beam_size: int = 1
    length_penalty: float = 0.6
    max_length: int | None = None
    bucket_width: int = 10

    def __post_init__(self) -> None:
        require_at_least("decoding", 1, beam_size=self.beam_size, bucket_width=self.bucket_width)
        require_finite("decoding.length_penalty", self.length_penalty)
        if self.length_penalty < 0:
            raise ConfigError(f"decoding.length_penalty must be >= 0, got {self.length_penalty}")
        if self.max_length is not None and self.max_length < 1:
            raise ConfigError(
                f"decoding.max_length must be >= 1 or null (2 * source length + 10), got "
                f"{self.max_length}"
            )


def decode(model: Seq2Seq, src: Tensor, src_lengths: Tensor, cfg: DecodingConfig) -> Tensor:
    """Greedy or beam search as ``cfg`` says: src (B, S) -> tokens (B, T')."""
    if cfg.beam_size > 1:
        return beam_search(
            model, src, src_lengths, cfg.beam_size, cfg.length_penalty, cfg.max_length
        )
    return greedy_decode(model, src, src_lengths, cfg.max_length)


def never_generate_specials(logits: Tensor) -> Tensor:
    """Decoding never emits <pad> or <bos>: their scores become -inf."""
    return logits.index_fill(
        -1, torch.tensor([PAD_ID, BOS_ID], device=logits.device), float("-inf")
    )


def default_max_length(src_lengths: Tensor) -> int:
    """Room for expansions: twice the longest source plus 10."""
    return int(src_lengths.max()) * 2 + 10


@torch.no_grad()
def greedy_decode(
    model: Seq2Seq, src: Tensor, src_lengths: Tensor, max_length: int | None = None
) -> Tensor:
    """src (B, S) -> tokens (B, T') without <bos>, <eos> included where produced, PAD after."""
    max_length = max_length or default_max_length(src_lengths)
    memory, state = model.encode(src, src_lengths)
    batch = src.size(0)
    prev = torch.full((batch,), BOS_ID, dtype=torch.long, device=src.device)
    finished = torch.zeros(batch, dtype=torch.bool, device=src.device)
    out = []
    for _ in range(max_length):
        logits, state, _ = model.step(prev, state, memory)
        prev = never_generate_specials(logits).argmax(-1).masked_fill(finished, PAD_ID)
        out.append(prev)
        finished |= prev == EOS_ID
        if bool(finished.all()):
            break
    return torch.stack(out, 1)


def length_penalty(lengths: Tensor, alpha: float) -> Tensor:
    """GNMT length penalty ((5 + |Y|) / 6)^alpha; alpha = 0 is plain log-probability."""
    return ((5.0 + lengths.float()) / 6.0) ** alpha


@torch.no_grad()
def beam_search(
    model: Seq2Seq,
    src: Tensor,
    src_lengths: Tensor,
    beam_size: int = 5,
    alpha: float = 0.6,
    max_length: int | None = None,
) -> Tensor:
    """Batched beam search. src (B, S) -> best tokens (B, T') as :func:`greedy_decode`.

    All B × K hypotheses advance together. A hypothesis that produced <eos> is finished: it
    may only extend with padding at no cost, so it keeps its score while the others go on.
    The best hypothesis per sentence maximises log p(Y) / length_penalty(|Y|).
    """
    if beam_size == 1:
        return greedy_decode(model, src, src_lengths, max_length)
    max_length = max_length or default_max_length(src_lengths)
    batch, k, device = src.size(0), beam_size, src.device
    memory, state = model.encode(src, src_lengths)
    memory = memory.repeat(k)
    state = reorder_state(state, torch.arange(batch, device=device).repeat_interleave(k))
    scores = torch.full((batch, k), float("-inf"), device=device)
    scores[:, 0] = 0.0  # only one live hypothesis at the start
    prev = torch.full((batch * k,), BOS_ID, dtype=torch.long, device=device)
    lengths = torch.zeros(batch * k, dtype=torch.long, device=device)
    finished = torch.zeros(batch * k, dtype=torch.bool, device=device)
    history = torch.empty(batch * k, 0, dtype=torch.long, device=device)
    for _ in range(max_length):
        logits, state, _ = model.step(prev, state, memory)
        log_probs = torch.log_softmax(never_generate_specials(logits.float()), -1)  # (B*K, V)
        vocab = log_probs.size(-1)
        done_row = torch.full_like(log_probs[0], float("-inf"))
        done_row[PAD_ID] = 0.0
        log_probs = torch.where(finished[:, None], done_row, log_probs)
        candidates = (scores.view(-1, 1) + log_probs).view(batch, k * vocab)
        scores, flat = candidates.topk(k, dim=-1)  # (B, K)
        origin = flat // vocab + torch.arange(batch, device=device)[:, None] * k
        origin = origin.view(-1)
        tokens = (flat % vocab).view(-1)
        state = reorder_state(state, origin)
        history = torch.cat([history.index_select(0, origin), tokens[:, None]], 1)
        was_finished = finished.index_select(0, origin)
        lengths = lengths.index_select(0, origin) + (~was_finished).long()
        finished = was_finished | (tokens == EOS_ID)
        prev = tokens
        if bool(finished.all()):
            break
    normalised = scores.view(-1) / length_penalty(lengths, alpha)
    best = normalised.view(batch, k).argmax(-1) + torch.arange(batch, device=device) * k
    return history.index_select(0, best)
