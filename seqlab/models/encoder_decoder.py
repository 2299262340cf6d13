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

Luong attention (Luong et al. 2015, ``model.attention=dot|general``): the decoder state
h_t = RNN(h_{t-1}, x_t) is the query, c_t = attention(h_t, h_1..h_S), the attentional state
h̃_t = tanh(W_c [c_t; h_t]) and the output W_s h̃_t. With input feeding (the paper's choice,
``model.input_feeding=true``) x_t = [E y_{t-1}; h̃_{t-1}], so the decoder steps one position
at a time; without it x_t = E y_{t-1}, and under teacher forcing the whole target goes
through the decoder in one fused call and the attention of every step in one batched
product: no step loop at all.

The decoder is never bidirectional: it generates left to right.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from seqlab.config.checks import require_choice, require_positive
from seqlab.config.schema import ModelConfig
from seqlab.errors import ConfigError
from seqlab.models.attention import AdditiveAttention, MultiplicativeAttention
from seqlab.models.attention_decoder import attention_teacher_forced, runs_fused_dropout
from seqlab.models.padding import real_mask
from seqlab.models.recurrent import Recurrent, RecurrentConfig, State
from seqlab.models.sampled_decoder import sampled_fixed_context
from seqlab.models.special_tokens import never_emitted_ids
from seqlab.spec import SEQ2SEQ, TaskSpec
from seqlab.text.vocab import PAD_ID


@dataclass
class Seq2SeqConfig(RecurrentConfig, ModelConfig):
    """seq2seq (RNNencdec) and seq2seq_attention (RNNsearch); every option of
    :class:`~seqlab.models.recurrent.RecurrentConfig` (for encoder and decoder;
    ``bidirectional`` is the encoder's), plus

    attention: none (one fixed context: RNNencdec) | additive (Bahdanau's RNNsearch) | dot |
    general (Luong's scores); ``true``/``false`` (older configs) mean additive/none.
    attention_size: size of the additive attention layer (W_a, U_a, v_a).
    input_feeding: Luong attention only: feed the previous attentional state h̃_{t-1} into
    the decoder's input (true, the paper's) or not (false: teacher forcing without a step
    loop). Additive attention always feeds its context c_i into the decoder.
    decoder_bidirectional: always refused (a decoder generates left to right); present so
    that asking for it gets a clear message.
    """

    _target_: str = "seqlab.models.encoder_decoder.Seq2SeqConfig"
    name: str = "seq2seq"
    cell: str = "gru"
    embedding_size: int = 64
    attention: str = "none"
    attention_size: int = 128
    input_feeding: bool = True
    decoder_bidirectional: bool = False

    outputs = (SEQ2SEQ,)

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive("model", attention_size=self.attention_size)
        self.attention = LEGACY_ATTENTION.get(str(self.attention).lower(), str(self.attention))
        require_choice("model.attention", self.attention, ATTENTIONS)
        if self.attention == "additive" and not self.input_feeding:
            raise ConfigError(
                "model.input_feeding=false applies to Luong attention (model.attention=dot or "
                "general); additive attention (Bahdanau) computes its context from the "
                "previous state and always feeds it into the decoder"
            )
        key_size = self.hidden_size * (2 if self.bidirectional else 1)
        if self.attention == "dot" and key_size != self.hidden_size:
            raise ConfigError(
                f"model.attention=dot scores h_tᵀ h_j, so the encoder's outputs ({key_size}: "
                f"{'a bidirectional encoder gives 2 × hidden_size' if self.bidirectional else ''}"
                f") must match the decoder's hidden_size ({self.hidden_size}); use "
                f"model.attention=general (h_tᵀ W_a h_j) or model.bidirectional=false"
            )
        if self.decoder_bidirectional:
            raise ConfigError(
                "a decoder cannot be bidirectional: it generates left to right and the future "
                "tokens do not exist yet. Use model.bidirectional=true for the encoder instead."
            )

    @property
    def has_attention(self) -> bool:
        return self.attention != "none"

    def build(self, spec: TaskSpec) -> nn.Module:
        return Seq2Seq(spec.vocab_size, spec.num_classes, self)


ATTENTIONS = ("none", "additive", "dot", "general")
LEGACY_ATTENTION = {"true": "additive", "false": "none"}  # when attention was a bool


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
        hidden = config.hidden_size
        embedding_size = config.embedding_size
        self.source_embedding = nn.Embedding(source_vocab, embedding_size, padding_idx=PAD_ID)
        self.encoder = Recurrent.from_config(config, embedding_size)
        context_size = self.encoder.output_size
        self.target_embedding = nn.Embedding(target_vocab, embedding_size, padding_idx=PAD_ID)
        self.luong = config.attention in ("dot", "general")
        self.input_feeding = self.luong and config.input_feeding
        if self.luong:  # x_t = E y_{t-1} (and h̃_{t-1} with input feeding)
            decoder_input = embedding_size + (hidden if self.input_feeding else 0)
        else:  # [E y_{i-1}; c_i] (c_i the fixed context or the additive attention's)
            decoder_input = embedding_size + context_size
        self.decoder = Recurrent.from_config(config, decoder_input, bidirectional=False)
        self.init_state = nn.Linear(context_size, config.layers * hidden)
        self.attention: AdditiveAttention | MultiplicativeAttention | None = None
        if config.attention == "additive":
            self.attention = AdditiveAttention(hidden, context_size, config.attention_size)
        elif self.luong:
            self.attention = MultiplicativeAttention(config.attention, hidden, context_size)
        self.dropout = nn.Dropout(config.dropout)
        if self.luong:  # h̃_t = tanh(W_c [c_t; h_t]); logits W_s h̃_t
            self.combine = nn.Linear(context_size + hidden, hidden, bias=False)
            self.output = nn.Linear(hidden, target_vocab)
        else:  # logits W_o [s_i; c_i; E y_{i-1}]
            self.output = nn.Linear(hidden + context_size + embedding_size, target_vocab)

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
        if self.input_feeding:  # h̃_0 = 0 rides along as the state's last part (1, B, H)
            fed = torch.zeros_like(h0[:1])
            state = (*state, fed) if isinstance(state, tuple) else (state, fed)  # type: ignore[assignment]
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
        recur = self._luong_recur if self.luong else self._recur
        features, state, weights = recur(embedded, state, memory)
        return self.output(self.dropout(features)), state, weights

    def _luong_recur(
        self, embedded: Tensor, state: State, memory: Memory
    ) -> tuple[Tensor, State, Tensor]:
        """One Luong step: embedded (B, E) -> attentional state h̃_t (B, H), new state,
        attention weights (B, S). With input feeding the state carries h̃_t as its last
        part."""
        if self.input_feeding:
            *rnn_state, fed = state  # type: ignore[misc]
            rnn: State = tuple(rnn_state) if len(rnn_state) > 1 else rnn_state[0]  # type: ignore[assignment]
            inputs = torch.cat([embedded, fed[0]], -1)
        else:
            rnn, inputs = state, embedded
        result = self.decoder(inputs.unsqueeze(1), state=rnn)
        top = result.outputs[:, 0]  # h_t (B, H)
        assert self.attention is not None and memory.keys is not None
        context, weights = self.attention(top, memory.keys, memory.outputs, memory.mask)
        attentional = torch.tanh(self.combine(torch.cat([context, top], -1)))
        if not self.input_feeding:
            return attentional, result.state, weights
        new = result.state if isinstance(result.state, tuple) else (result.state,)
        return attentional, (*new, attentional.unsqueeze(0)), weights  # type: ignore[return-value]

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
        if self.luong and not self.input_feeding:  # one fused call, attention for all steps
            assert self.attention is not None and memory.keys is not None
            tops = self.decoder(embedded, state=state).outputs  # h_t (B, T, H)
            context, _ = self.attention(tops, memory.keys, memory.outputs, memory.mask)
            attentional = torch.tanh(self.combine(torch.cat([context, tops], -1)))
            return self.output(self.dropout(attentional))
        if self.luong:  # input feeding: one step at a time
            steps = []
            for embedded_t in embedded.unbind(1):
                attentional, state, _ = self._luong_recur(embedded_t, state, memory)
                steps.append(attentional)
            return self.output(self.dropout(torch.stack(steps, 1)))
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
        specials = never_emitted_ids(tgt_in.device)  # never fed back
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
