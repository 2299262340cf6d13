"""Batched decoding for :class:`seqlab.models.encoder_decoder.Seq2Seq`: greedy and beam
search, and the ``decoding`` options that choose between them."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from seqlab.config.checks import require_at_least, require_choice, require_finite
from seqlab.errors import ConfigError
from seqlab.models.encoder_decoder import Seq2Seq, reorder_state
from seqlab.models.special_tokens import never_emitted
from seqlab.text.vocab import BOS_ID, EOS_ID, PAD_ID


@dataclass
class DecodingConfig:
    """The ``decoding`` options (test decoding; validation always decodes greedily).

    beam_size: 1 = greedy. length_penalty: GNMT alpha for beam search (0 = plain
    log-probability). max_length: longest output in tokens; null = from the training data
    (the largest target/source length ratio seen times the source length, plus 10; see
    :func:`output_limits`). bucket_width: BLEU by source length in buckets 1..w, w+1..2w, ...
    bleu_lowercase: score BLEU case-insensitively (the signature then says ``case:lc``).
    bucket_unit: what source length counts for those buckets: words (whitespace-separated,
    Bahdanau et al.'s measure, default) | characters (non-space characters: for sources
    written without spaces, such as Chinese or Japanese).
    bleu_tokenize: sacrebleu's tokeniser, as its ``-tok``: 13a (default), intl, zh
    (Chinese), char, none (text tokenized already), ja-mecab and ko-mecab (with sacrebleu's
    ``ja`` / ``ko`` extras installed).
    """

    beam_size: int = 1
    length_penalty: float = 0.6
    max_length: int | None = None
    bucket_width: int = 10
    bucket_unit: str = "words"
    bleu_lowercase: bool = False
    bleu_tokenize: str = "13a"

    def __post_init__(self) -> None:
        check_bleu_tokenize(self.bleu_tokenize)
        require_choice("decoding.bucket_unit", self.bucket_unit, BUCKET_UNITS, "characters")
        require_at_least("decoding", 1, beam_size=self.beam_size, bucket_width=self.bucket_width)
        require_finite("decoding.length_penalty", self.length_penalty)
        if self.length_penalty < 0:
            raise ConfigError(f"decoding.length_penalty must be >= 0, got {self.length_penalty}")
        if self.max_length is not None and self.max_length < 1:
            raise ConfigError(
                f"decoding.max_length must be >= 1 or null (from the training data), got "
                f"{self.max_length}"
            )


BUCKET_UNITS = ("words", "characters")


def source_length(source: str, unit: str) -> int:
    """A source sentence's length in ``unit``: words (split on whitespace) or characters
    (every character but whitespace)."""
    words = source.split()
    return len(words) if unit == "words" else sum(map(len, words))


# sacrebleu's tokenisers that run offline (flores101/200 and spm download a model).
BLEU_TOKENIZERS = ("13a", "intl", "zh", "char", "none", "ja-mecab", "ko-mecab")


def check_bleu_tokenize(name: str) -> None:
    """``name`` must be a BLEU_TOKENIZERS entry whose dependencies are installed."""
    if name in ("flores101", "flores200", "spm", "spBLEU-1K"):
        raise ConfigError(
            f"decoding.bleu_tokenize={name} would download a SentencePiece model, and seqlab "
            f"never downloads at run time; choose one of {', '.join(BLEU_TOKENIZERS)}"
        )
    require_choice("decoding.bleu_tokenize", name, BLEU_TOKENIZERS, "intl")
    if name.endswith("-mecab"):
        from sacrebleu.metrics import BLEU

        try:
            BLEU(tokenize=name)
        except RuntimeError:
            extra = name.split("-")[0]
            raise ConfigError(
                f"decoding.bleu_tokenize={name} needs MeCab, which is not installed: "
                f'pip install "sacrebleu[{extra}]", or choose another tokeniser'
            ) from None


MARGIN = 10  # tokens an output may run past (source length x length ratio)


def output_limits(
    src_lengths: Tensor, length_ratio: float = 2.0, max_length: int | None = None
) -> Tensor:
    """The longest output each sentence may get, (B,): ``max_length`` if set, else
    ceil(length_ratio * |source|) + 10, where the task measures length_ratio as the largest
    target/source length ratio in its training data (2 when unknown)."""
    if max_length is not None:
        return torch.full_like(src_lengths, max_length)
    return (src_lengths.double() * length_ratio).ceil().long() + MARGIN


def decode(
    model: Seq2Seq, src: Tensor, src_lengths: Tensor, cfg: DecodingConfig, length_ratio: float
) -> Tensor:
    """Greedy or beam search as ``cfg`` says: src (B, S) -> tokens (B, T'); a row without
    <eos> was cut at its limit (:func:`output_limits`)."""
    limits = output_limits(src_lengths, length_ratio, cfg.max_length)
    if cfg.beam_size > 1:
        return beam_search(model, src, src_lengths, cfg.beam_size, cfg.length_penalty, limits)
    return greedy_decode(model, src, src_lengths, limits)


def _limits(src_lengths: Tensor, max_length: int | Tensor | None) -> Tensor:
    """Per-row output limits (B,) from an int, a tensor, or None (twice the source + 10)."""
    if isinstance(max_length, Tensor):
        return max_length.to(src_lengths.device)
    if max_length is None:
        return output_limits(src_lengths)
    return torch.full_like(src_lengths, max_length)


@torch.no_grad()
def greedy_decode(
    model: Seq2Seq, src: Tensor, src_lengths: Tensor, max_length: int | Tensor | None = None
) -> Tensor:
    """src (B, S) -> tokens (B, T') without <bos>, <eos> included where produced, PAD after.
    ``max_length``: the longest output, for all rows (int) or per row (B,)."""
    return _greedy(model, src, src_lengths, max_length, keep_attention=False)[0]


@torch.no_grad()
def greedy_alignments(
    model: Seq2Seq, src: Tensor, src_lengths: Tensor, max_length: int | Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Greedy decoding that keeps the attention weights: src (B, S) -> tokens (B, T') as
    :func:`greedy_decode`, weights (B, T', S) of each output step over the source (an
    attention model only)."""
    tokens, weights = _greedy(model, src, src_lengths, max_length, keep_attention=True)
    if weights is None:
        raise ValueError("the model has no attention weights to show")
    return tokens, weights


def _greedy(
    model: Seq2Seq,
    src: Tensor,
    src_lengths: Tensor,
    max_length: int | Tensor | None,
    keep_attention: bool,
) -> tuple[Tensor, Tensor | None]:
    limits = _limits(src_lengths, max_length)
    memory, state = model.encode(src, src_lengths)
    batch = src.size(0)
    prev = torch.full((batch,), BOS_ID, dtype=torch.long, device=src.device)
    finished = torch.zeros(batch, dtype=torch.bool, device=src.device)
    out, alignments = [], []
    for step in range(int(limits.max())):
        logits, state, weights = model.step(prev, state, memory)
        if keep_attention and weights is not None:
            alignments.append(weights)
        prev = never_emitted(logits).argmax(-1).masked_fill(finished, PAD_ID)
        out.append(prev)
        finished |= (prev == EOS_ID) | (limits <= step + 1)
        if bool(finished.all()):
            break
    return torch.stack(out, 1), torch.stack(alignments, 1) if alignments else None


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
    max_length: int | Tensor | None = None,
) -> Tensor:
    """Batched beam search. src (B, S) -> best tokens (B, T') as :func:`greedy_decode`: the
    first of :func:`beam_search_nbest`'s lists (greedy decoding for a beam of 1)."""
    if beam_size == 1:
        return greedy_decode(model, src, src_lengths, max_length)
    return beam_search_nbest(model, src, src_lengths, beam_size, alpha, max_length)[0][:, 0]


@torch.no_grad()
def beam_search_nbest(
    model: Seq2Seq,
    src: Tensor,
    src_lengths: Tensor,
    beam_size: int = 5,
    alpha: float = 0.6,
    max_length: int | Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Batched beam search with every final hypothesis: src (B, S) -> tokens (B, K, T') and
    scores (B, K), best first, the score log p(Y) / length_penalty(|Y|) (GNMT, alpha).

    All B × K hypotheses advance together in one tensor. A hypothesis that produced <eos> is
    finished: it may only extend with padding at no cost, so it keeps its score while the
    others go on. No sentence's hypotheses depend on another's, or on the batch's padding
    (tested).
    """
    limits = _limits(src_lengths, max_length).repeat_interleave(beam_size)  # (B*K,)
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
    for step in range(int(limits.max())):
        logits, state, _ = model.step(prev, state, memory)
        log_probs = torch.log_softmax(never_emitted(logits.float()), -1)  # (B*K, V)
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
        # every beam of a sentence has the sentence's limit, so limits need no reordering
        finished = was_finished | (tokens == EOS_ID) | (limits <= step + 1)
        prev = tokens
        if bool(finished.all()):
            break
    normalised = (scores.view(-1) / length_penalty(lengths, alpha)).view(batch, k)
    ranked, order = normalised.sort(dim=-1, descending=True, stable=True)
    rows = (order + torch.arange(batch, device=device)[:, None] * k).view(-1)
    return history.index_select(0, rows).view(batch, k, -1), ranked
