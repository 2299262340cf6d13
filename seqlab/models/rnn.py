"""The recurrent models ``vanilla``, ``lstm``, ``gru`` and ``bi``: one family whose cell and
direction are options (configs/model/{vanilla,lstm,gru,bi}.yaml).

On a per-step task the model is a :class:`RecurrentTagger` (one output per input position:
copy, tagging); on a sequence task a :class:`RecurrentClassifier` (one label per sequence:
sentiment, text classification). :class:`RNNConfig` picks one from the task's spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from torch import Tensor, nn

from seqlab.config.checks import require_choice
from seqlab.config.schema import ModelConfig
from seqlab.errors import ConfigError
from seqlab.models.padding import real_mask
from seqlab.models.recurrent import Recurrent, RecurrentConfig, State
from seqlab.spec import PER_STEP, SEQUENCE, TaskSpec

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
    """

    _target_: str = "seqlab.models.rnn.RNNConfig"
    name: str = "lstm"
    pooling: str = "last"

    outputs = (PER_STEP, SEQUENCE)
    carries_state = True

    def __post_init__(self) -> None:
        super().__post_init__()
        require_choice("model.pooling", self.pooling, POOLINGS)

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
        if spec.output == PER_STEP:
            return RecurrentTagger(spec.vocab_size, spec.num_classes, self)
        return RecurrentClassifier(spec.vocab_size, spec.num_classes, self, self.pooling)


class RecurrentTagger(nn.Module):
    """tokens (B, T) -> logits (B, T, num_classes).

    Embedding -> dropout -> :class:`Recurrent` (any cell, optionally bidirectional) -> dropout
    -> linear.
    The state can be passed in and is returned, so truncated BPTT can carry it across chunks.
    """

    def __init__(self, vocab_size: int, num_classes: int, config: RecurrentConfig) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, config.embedding_size)
        self.encoder = Recurrent.from_config(config, config.embedding_size)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(self.encoder.output_size, num_classes)

    def forward(
        self, tokens: Tensor, lengths: Tensor | None = None, state: State | None = None
    ) -> tuple[Tensor, State]:
        """tokens (B, T) long, lengths (B,) or None -> logits (B, T, C), final state."""
        result = self.encoder(self.dropout(self.embedding(tokens)), lengths, state)
        return self.head(self.dropout(result.outputs)), result.state


class RecurrentClassifier(nn.Module):
    """tokens (B, T), lengths (B,) -> logits (B, C), pooling the recurrent outputs as
    ``pooling`` says (see :class:`RNNConfig`)."""

    def __init__(
        self, vocab_size: int, num_classes: int, config: RecurrentConfig, pooling: str = "last"
    ) -> None:
        super().__init__()
        require_choice("model.pooling", pooling, POOLINGS)
        self.pooling = pooling
        self.embedding = nn.Embedding(vocab_size, config.embedding_size)
        self.encoder = Recurrent.from_config(config, config.embedding_size)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(self.encoder.output_size, num_classes)

    def forward(self, tokens: Tensor, lengths: Tensor | None = None) -> Tensor:
        result = self.encoder(self.dropout(self.embedding(tokens)), lengths)
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
