"""Per-position recurrent model: one output for every input step (copy task, tagging)."""

from __future__ import annotations

from torch import Tensor, nn

from seqlab.models.recurrent import Recurrent, State


class RecurrentTagger(nn.Module):
    """tokens (B, T) -> logits (B, T, num_classes).

    Embedding -> :class:`Recurrent` (any cell, optionally bidirectional) -> dropout -> linear.
    The state can be passed in and is returned, so truncated BPTT can carry it across chunks.
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
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.encoder = Recurrent(
            cell,
            embedding_size,
            hidden_size,
            num_layers=layers,
            bidirectional=bidirectional,
            dropout=dropout,
            impl=impl,
            forget_bias=forget_bias,
            recurrent_init=recurrent_init,
            recurrent_gain=recurrent_gain,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.output_size, num_classes)

    def forward(
        self, tokens: Tensor, lengths: Tensor | None = None, state: State | None = None
    ) -> tuple[Tensor, State]:
        """tokens (B, T) long, lengths (B,) or None -> logits (B, T, C), final state."""
        result = self.encoder(self.embedding(tokens), lengths, state)
        return self.head(self.dropout(result.outputs)), result.state
