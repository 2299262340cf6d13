"""Recurrent sequence classifier: one label per sequence (sentiment)."""

from __future__ import annotations

from torch import Tensor, nn

from seqlab.models.baselines import real_mask
from seqlab.models.recurrent import Recurrent

POOLINGS = ("last", "mean", "max")


class RecurrentClassifier(nn.Module):
    """tokens (B, T), lengths (B,) -> logits (B, C).

    pooling: ``last`` the final state (with a bidirectional model, the forward state at the
    last real token and the backward state at the first: both directions' final states),
    ``mean`` / ``max`` over the outputs at real positions.
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        cell: str = "lstm",
        embedding_size: int = 64,
        hidden_size: int = 128,
        layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        impl: str = "fused",
        forget_bias: float = 1.0,
        recurrent_init: str = "default",
        recurrent_gain: float = 1.0,
        pooling: str = "last",
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; choose one of {POOLINGS}")
        self.pooling = pooling
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.encoder = Recurrent(
            cell,
            embedding_size,
            hidden_size,
            layers,
            bidirectional,
            dropout,
            impl,
            forget_bias,
            recurrent_init,
            recurrent_gain,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.output_size, num_classes)

    def forward(self, tokens: Tensor, lengths: Tensor | None = None) -> Tensor:
        result = self.encoder(self.embedding(tokens), lengths)
        if self.pooling == "last":
            pooled = result.last
        else:
            mask = real_mask(tokens, lengths).unsqueeze(-1)
            if self.pooling == "mean":
                pooled = (result.outputs * mask).sum(1) / mask.sum(1).clamp(min=1)
            else:
                pooled = result.outputs.masked_fill(~mask, float("-inf")).max(1).values
        return self.head(self.dropout(pooled))
