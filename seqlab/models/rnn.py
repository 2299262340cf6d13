"""The recurrent models ``vanilla``, ``lstm``, ``gru`` and ``bi``: one family whose cell and
direction are options (configs/model/{vanilla,lstm,gru,bi}.yaml).

On a per-step task the model is a :class:`RecurrentTagger` (one output per input position:
copy, tagging; and, reading left to right, the next token of a language model); on a
sequence task a :class:`RecurrentClassifier` (one label per sequence: sentiment, text
classification). :class:`RNNConfig` picks one from the task's spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.config.checks import require_choice
from seqlab.config.schema import ModelConfig
from seqlab.errors import ConfigError
from seqlab.models.padding import real_mask
from seqlab.models.recurrent import Recurrent, RecurrentConfig, State
from seqlab.models.regularization import dropout_module, embedding_dropout
from seqlab.spec import NEXT_TOKEN, PER_STEP, SEQUENCE, TaskSpec

if TYPE_CHECKING:
    from seqlab.config.training import TrainingConfig

POOLINGS = ("last", "mean", "max")


@dataclass
class RNNConfig(RecurrentConfig, ModelConfig):
    """vanilla (cell rnn), lstm, gru, bi (bidirectional); every option of
    :class:`~seqlab.models.recurrent.RecurrentConfig`, plus

    pooling: on sequence tasks, what the classifier reads: ``last`` (the final states; for a
    bidirectional model the forward state at the last real token and the backward state at
    the first), ``mean`` or ``max`` over the outputs at real positions.

    The regularisers of LSTM language models (Merity et al. 2018), for every task:
    input_dropout / output_dropout: dropout on the embedded tokens / on the features the
    output layer reads (null: ``dropout``, which also sits between stacked layers).
    locked_dropout: those dropouts use one mask per sequence, the same at every time step
    (variational dropout, Gal & Ghahramani 2016), between layers too.
    embedding_dropout: drop whole token types (rows of the embedding matrix) with this
    probability. weight_drop: DropConnect on every recurrent matrix W_hh.
    tie_embeddings: a language model's output layer shares the input embedding matrix
    (Press & Wolf 2017; Inan et al. 2017); needs embedding_size == hidden_size.
    """

    _target_: str = "seqlab.models.rnn.RNNConfig"
    name: str = "lstm"
    pooling: str = "last"
    input_dropout: float | None = None
    output_dropout: float | None = None
    locked_dropout: bool = False
    embedding_dropout: float = 0.0
    weight_drop: float = 0.0
    tie_embeddings: bool = False

    outputs = (PER_STEP, SEQUENCE, NEXT_TOKEN)
    carries_state = True

    def __post_init__(self) -> None:
        super().__post_init__()
        require_choice("model.pooling", self.pooling, POOLINGS)
        for key in ("input_dropout", "output_dropout", "embedding_dropout", "weight_drop"):
            value = getattr(self, key)
            if value is not None and not 0.0 <= value < 1.0:
                raise ConfigError(f"model.{key} is a probability in [0, 1), got {value}")
        if self.tie_embeddings and self.embedding_size != self.hidden_size:
            raise ConfigError(
                f"model.tie_embeddings shares the embedding matrix with the output layer, so "
                f"model.embedding_size must equal model.hidden_size (the features that layer "
                f"reads); got {self.embedding_size} and {self.hidden_size}. Set "
                f"model.embedding_size={self.hidden_size}."
            )

    def refusal(self, output: str) -> str | None:
        if output == NEXT_TOKEN and self.bidirectional:
            return (
                f"model={self.name} is bidirectional: its backward direction reads the tokens "
                f"after each position, so it would see the very token it must predict. A "
                f"language model (task=lm) reads left to right: use model=lstm, gru or vanilla."
            )
        return None

    def check_output(self, output: str) -> None:
        if self.tie_embeddings and output != NEXT_TOKEN:
            raise ConfigError(
                "model.tie_embeddings applies to language models (task=lm), whose output layer "
                "predicts tokens from the input vocabulary; this task's outputs are labels. "
                "Use model.tie_embeddings=false."
            )

    @property
    def dropouts(self) -> tuple[float, float]:
        """(input, output) dropout probabilities."""
        first = self.dropout if self.input_dropout is None else self.input_dropout
        last = self.dropout if self.output_dropout is None else self.output_dropout
        return first, last

    def check_training(self, training: TrainingConfig) -> None:
        if training.tbptt_steps is not None and self.bidirectional:
            raise ConfigError(
                "truncated BPTT (training.tbptt_steps) cannot be used with a bidirectional "
                "model: its backward direction needs the whole sequence before the first "
                "output. Use training.tbptt_steps=null or a unidirectional model "
                "(model=lstm|gru|vanilla)."
            )
        super().check_training(training)

    def build(self, spec: TaskSpec) -> nn.Module:
        if spec.output == NEXT_TOKEN:
            return RecurrentTagger(spec.vocab_size, spec.vocab_size, self)
        if spec.output == PER_STEP:
            return RecurrentTagger(spec.vocab_size, spec.num_classes, self)
        return RecurrentClassifier(spec.vocab_size, spec.num_classes, self, self.pooling)


class RegularisedRecurrent(nn.Module):
    """The body the recurrent models share: tokens (B, T) -> embedding (with embedding
    dropout) -> input dropout -> :class:`Recurrent` (weight drop, dropout between layers)
    -> output dropout. ``config``: an :class:`RNNConfig` (a plain RecurrentConfig has no
    regularisers beyond ``dropout``)."""

    def __init__(self, vocab_size: int, config: RecurrentConfig) -> None:
        super().__init__()
        options = config if isinstance(config, RNNConfig) else RNNConfig(**_recurrent(config))
        self.embedding = nn.Embedding(vocab_size, config.embedding_size)
        self.encoder = Recurrent(
            config.cell,
            config.embedding_size,
            config.hidden_size,
            num_layers=config.layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout,
            impl=config.impl,
            forget_bias=config.forget_bias,
            recurrent_init=config.recurrent_init,
            recurrent_gain=config.recurrent_gain,
            weight_drop=options.weight_drop,
            locked_dropout=options.locked_dropout,
        )
        first, last = options.dropouts
        self.input_dropout = dropout_module(first, options.locked_dropout)
        self.dropout = dropout_module(last, options.locked_dropout)  # on the outputs
        self.embedding_dropout = options.embedding_dropout

    def embed(self, tokens: Tensor) -> Tensor:
        """tokens (B, T) -> (B, T, E), embedding and input dropout applied."""
        if self.training and self.embedding_dropout > 0:
            weight = embedding_dropout(self.embedding.weight, self.embedding_dropout, True)
            return self.input_dropout(F.embedding(tokens, weight))
        return self.input_dropout(self.embedding(tokens))  # the module: its hooks run


def _recurrent(config: RecurrentConfig) -> dict[str, object]:
    return {f: getattr(config, f) for f in RecurrentConfig.__dataclass_fields__}


class RecurrentTagger(RegularisedRecurrent):
    """tokens (B, T) -> logits (B, T, num_classes).

    Embedding -> dropout -> :class:`Recurrent` (any cell, optionally bidirectional) -> dropout
    -> linear. A language model (num_classes == vocab_size) may tie the linear layer's weight
    to the embedding matrix (``tie_embeddings``).
    The state can be passed in and is returned, so truncated BPTT can carry it across chunks.
    """

    def __init__(self, vocab_size: int, num_classes: int, config: RecurrentConfig) -> None:
        super().__init__(vocab_size, config)
        self.head = nn.Linear(self.encoder.output_size, num_classes)
        if getattr(config, "tie_embeddings", False):
            self.head.weight = self.embedding.weight  # (V, E), E == H: checked by RNNConfig

    def forward(
        self, tokens: Tensor, lengths: Tensor | None = None, state: State | None = None
    ) -> tuple[Tensor, State]:
        """tokens (B, T) long, lengths (B,) or None -> logits (B, T, C), final state."""
        result = self.encoder(self.embed(tokens), lengths, state)
        return self.head(self.dropout(result.outputs)), result.state


class RecurrentClassifier(RegularisedRecurrent):
    """tokens (B, T), lengths (B,) -> logits (B, C), pooling the recurrent outputs as
    ``pooling`` says (see :class:`RNNConfig`)."""

    def __init__(
        self, vocab_size: int, num_classes: int, config: RecurrentConfig, pooling: str = "last"
    ) -> None:
        super().__init__(vocab_size, config)
        require_choice("model.pooling", pooling, POOLINGS)
        self.pooling = pooling
        self.head = nn.Linear(self.encoder.output_size, num_classes)

    def forward(self, tokens: Tensor, lengths: Tensor | None = None) -> Tensor:
        result = self.encoder(self.embed(tokens), lengths)
        pooled = self.pool(result.outputs, result.last, tokens, lengths)
        return self.head(self.dropout(pooled))

    def pool(self, outputs: Tensor, last: Tensor, tokens: Tensor, lengths: Tensor | None) -> Tensor:
        """What the classifier reads: ``last`` (B, D) itself, or the mean or max of
        ``outputs`` (B, T, D) over the real positions of ``tokens`` (B, T)."""
        if self.pooling == "last":
            return last
        mask = real_mask(tokens, lengths).unsqueeze(-1)
        if self.pooling == "mean":
            return (outputs * mask).sum(1) / mask.sum(1).clamp(min=1)
        return outputs.masked_fill(~mask, float("-inf")).max(1).values


# The schemas this module declares, stored in Hydra's ConfigStore by
# seqlab.engine.run_config.register_schemas as schema/model/<name>.
SCHEMAS = {"rnn": RNNConfig}
