"""Encoder-decoder models: RNNencdec (fixed context vector) and RNNsearch (attention).

Encoder: embedding -> :class:`Recurrent` (optionally bidirectional). Its summary ``last``
(forward state at the last real token, backward state at the first) is the context vector
of the fixed-context model and, through tanh(W_init ·), the decoder's initial state in both.

Fixed context (Cho et al. 2014, "RNNencdec"): the same c enters the decoder at every step,
s_i = RNN(s_{i-1}, [E y_{i-1}; c]), output W_o [s_i; c; E y_{i-1}]. With teacher forcing at
ratio 1 the whole target goes through the decoder in one fused call.

Attention (Bahdanau et al. 2014, "RNNsearch"): c_i = attention(s_{i-1}, h_1..h_S),
s_i = RNN(s_{i-1}, [E y_{i-1}; c_i]), output W_o [s_i; c_i; E y_{i-1}]. c_i depends on
s_{i-1}, so the decoder steps one position at a time; U_a h_j is computed once per sentence,
and under teacher forcing the loop holds only the sequential part
(seqlab/models/attention_decoder.py).

The decoder is never bidirectional: it generates left to right.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from seqlab.config.checks import require_positive
from seqlab.config.schema import ModelConfig
from seqlab.errors import ConfigError
from seqlab.models.attention import AdditiveAttention
from seqlab.models.attention_decoder import attention_teacher_forced, runs_fused_dropout
from seqlab.models.padding import real_mask
from seqlab.models.recurrent import Recurrent, RecurrentConfig, State
from seqlab.models.sampled_decoder import sampled_fixed_context
from seqlab.spec import SEQ2SEQ, TaskSpec
from seqlab.text.vocab import BOS_ID, PAD_ID


@dataclass
class Seq2SeqConfig(RecurrentConfig, ModelConfig):
    """seq2seq (RNNencdec) and seq2seq_attention (RNNsearch); every option of
    :class:`~seqlab.models.recurrent.RecurrentConfig` (for encoder and decoder;
    ``bidirectional`` is the encoder's), plus

    attention: additive attention over the encoder states instead of one fixed context.
    attention_size: size of the attention layer (W_a, U_a, v_a).
    decoder_bidirectional: always refused (a decoder generates left to right); present so
    that asking for it gets a clear message.
    """

    _target_: str = "seqlab.models.encoder_decoder.Seq2SeqConfig"
    name: str = "seq2seq"
    cell: str = "gru"
    embedding_size: int = 64
    attention: bool = False
    attention_size: int = 128
    decoder_bidirectional: bool = False

    outputs = (SEQ2SEQ,)

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive("model", attention_size=self.attention_size)
        if self.decoder_bidirectional:
            raise ConfigError(
                "a decoder cannot be bidirectional: it generates left to right and the future "
                "tokens do not exist yet. Use model.bidirectional=true for the encoder instead."
            )

    def build(self, spec: TaskSpec) -> nn.Module:
        return Seq2Seq(spec.vocab_size, spec.num_classes, self)


@dataclass
class Memory:
    """What the decoder reads from the encoder. B may be batch × beam.

    outputs (B, S, K) encoder outputs; mask (B, S) real positions; context (B, K) the
    fixed context vector; keys (B, S, A) U_a h_j (attention only).
    """

    outputs: Tensor
    mask: Tensor
    context: Tensor
    keys: Tensor | None = None

    def repeat(self, times: int) -> Memory:
        """Each row repeated ``times`` times in place (for beams)."""

        def rep(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.repeat_interleave(times, dim=0)

        return Memory(rep(self.outputs), rep(self.mask), rep(self.context), rep(self.keys))  # type: ignore[arg-type]


def reorder_state(state: State, index: Tensor) -> State:
    """Select batch rows (dim 1 of PyTorch's state layout)."""
    if isinstance(state, tuple):
        return tuple(s.index_select(1, index) for s in state)  # type: ignore[return-value]
    return state.index_select(1, index)


class Seq2Seq(nn.Module):
    """Encoder-decoder over word ids.

    Args:
        source_vocab, target_vocab: vocabulary sizes (id 0 is padding in both).
        config: cell, sizes, layers, dropout, the encoder's direction, attention (RNNsearch
            instead of RNNencdec) and its size.
    """

    def __init__(self, source_vocab: int, target_vocab: int, config: Seq2SeqConfig) -> None:
        super().__init__()
        self.cell = config.cell
        self.layers = config.layers
        self.hidden_size = config.hidden_size
        embedding_size = config.embedding_size
        self.source_embedding = nn.Embedding(source_vocab, embedding_size, padding_idx=PAD_ID)
        self.encoder = Recurrent.from_config(config, embedding_size)
        context_size = self.encoder.output_size
        self.target_embedding = nn.Embedding(target_vocab, embedding_size, padding_idx=PAD_ID)
        self.decoder = Recurrent.from_config(
            config, embedding_size + context_size, bidirectional=False
        )
        self.init_state = nn.Linear(context_size, config.layers * config.hidden_size)
        self.attention = (
            AdditiveAttention(config.hidden_size, context_size, config.attention_size)
            if config.attention
            else None
        )
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(config.hidden_size + context_size + embedding_size, target_vocab)

    # ----- encoder -----------------------------------------------------------------------
    def encode(self, src: Tensor, src_lengths: Tensor) -> tuple[Memory, State]:
        """src (B, S), src_lengths (B,) -> memory, decoder initial state (L, B, H)."""
        encoded = self.encoder(self.dropout(self.source_embedding(src)), src_lengths)
        mask = real_mask(src, src_lengths)
        keys = self.attention.project_keys(encoded.outputs) if self.attention else None
        memory = Memory(encoded.outputs, mask, encoded.last, keys)
        h0 = torch.tanh(self.init_state(encoded.last))  # (B, L*H)
        h0 = h0.view(-1, self.layers, self.hidden_size).transpose(0, 1).contiguous()
        state: State = (h0, torch.zeros_like(h0)) if self.cell == "lstm" else h0
        return memory, state

    # ----- decoder -----------------------------------------------------------------------
    @staticmethod
    def _top_hidden(state: State) -> Tensor:
        return (state[0] if isinstance(state, tuple) else state)[-1]

    def step(
        self, prev_tokens: Tensor, state: State, memory: Memory
    ) -> tuple[Tensor, State, Tensor | None]:
        """One decoder step. prev_tokens (B,) -> logits (B, V), new state, attention (B, S)."""
        embedded = self.dropout(self.target_embedding(prev_tokens))  # (B, E)
        features, state, weights = self._recur(embedded, state, memory)
        return self.output(self.dropout(features)), state, weights

    def _recur(
        self, embedded: Tensor, state: State, memory: Memory
    ) -> tuple[Tensor, State, Tensor | None]:
        """The recurrent part of a step: embedded (B, E) -> output features [s_i; c_i; E y]
        (B, H + K + E), new state, attention weights (B, S) or None."""
        weights = None
        if self.attention is not None:
            context, weights = self.attention(
                self._top_hidden(state), memory.keys, memory.outputs, memory.mask
            )
        else:
            context = memory.context
        result = self.decoder(torch.cat([embedded, context], -1).unsqueeze(1), state=state)
        return torch.cat([result.outputs[:, 0], context, embedded], -1), result.state, weights

    def forward(self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor) -> Tensor:
        """Teacher forcing: src (B, S), src_lengths (B,), tgt_in (B, T) = <bos> y.. ->
        logits (B, T, V)."""
        memory, state = self.encode(src, src_lengths)
        if self.attention is None:
            embedded = self.dropout(self.target_embedding(tgt_in))  # (B, T, E)
            context = memory.context.unsqueeze(1).expand(-1, tgt_in.size(1), -1)
            result = self.decoder(torch.cat([embedded, context], -1), state=state)
            return self.output(self.dropout(torch.cat([result.outputs, context, embedded], -1)))
        embedded = self.dropout(self.target_embedding(tgt_in))  # (B, T, E), all steps at once
        if not runs_fused_dropout(self, self.dropout.p, self.layers):
            features = attention_teacher_forced(self, memory, state, embedded)
            return self.output(self.dropout(features))  # the same equations, a cheaper loop
        features = []
        for embedded_t in embedded.unbind(1):
            step_features, state, _ = self._recur(embedded_t, state, memory)
            features.append(step_features)
        return self.output(self.dropout(torch.stack(features, 1)))  # one projection for all

    def forward_sampled(
        self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor, ratio: float
    ) -> Tensor:
        """Scheduled sampling (Bengio et al. 2015): at each step feed the true previous token
        with probability ``ratio``, else the model's own previous prediction (argmax, no
        gradient through the choice). Decided per token. Returns logits (B, T, V)."""
        memory, state = self.encode(src, src_lengths)
        use_truth = torch.rand(tgt_in.shape, device=tgt_in.device) < ratio  # (B, T)
        use_truth[:, 0] = True  # <bos>
        specials = torch.tensor([PAD_ID, BOS_ID], device=tgt_in.device)  # never fed back
        if self.attention is None and not (self.training and self.dropout.p > 0):
            # Same result, with everything that does not depend on the model's own
            # predictions out of the step loop (1.5x -> 1.1x teacher forcing for the LSTM).
            return sampled_fixed_context(self, memory, state, tgt_in, use_truth, specials)
        return self.sampled_step_by_step(memory, state, tgt_in, use_truth, specials)

    def sampled_step_by_step(
        self, memory: Memory, state: State, tgt_in: Tensor, use_truth: Tensor, never_fed: Tensor
    ) -> Tensor:
        """Scheduled sampling as defined, one :meth:`step` at a time: use_truth (B, T) bool
        chooses the true previous token, else the previous argmax (never one of
        ``never_fed``). Returns logits (B, T, V)."""
        logits = []
        prev = tgt_in[:, 0]
        for t, (truth, feed_truth) in enumerate(
            zip(tgt_in.unbind(1), use_truth.unbind(1), strict=True)
        ):
            if t > 0:
                own = logits[-1].detach().index_fill(-1, never_fed, float("-inf")).argmax(-1)
                prev = torch.where(feed_truth, truth, own)
            step_logits, state, _ = self.step(prev, state, memory)
            logits.append(step_logits)
        return torch.stack(logits, 1)


# The schemas this module declares, stored in Hydra's ConfigStore by
# seqlab.engine.run_config.register_schemas as schema/model/<name>.
SCHEMAS = {"seq2seq": Seq2SeqConfig}
