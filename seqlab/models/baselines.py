"""Models from before RNNs: bag of words and a fixed-window MLP."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.tasks.vocab import PAD_ID


def mlp(inputs: int, hidden: int, outputs: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(inputs, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, outputs)
    )


def real_mask(tokens: Tensor, lengths: Tensor | None) -> Tensor:
    """(B, T) True at real (non-padding) positions."""
    if lengths is None:
        return torch.ones_like(tokens, dtype=torch.bool)
    return torch.arange(tokens.size(1), device=tokens.device)[None] < lengths[:, None]


class BagOfWords(nn.Module):
    """tokens (B, T) -> logits (B, C): the mean of the word embeddings, then an MLP.
    Word order is invisible to it by construction."""

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embedding_size: int = 64,
        mlp_hidden: int = 128,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=PAD_ID)
        self.classifier = mlp(embedding_size, mlp_hidden, num_classes, dropout)

    def forward(self, tokens: Tensor, lengths: Tensor | None = None) -> Tensor:
        mask = real_mask(tokens, lengths).unsqueeze(-1).float()  # (B, T, 1)
        mean = (self.embedding(tokens) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.classifier(mean)


class WindowMLP(nn.Module):
    """An MLP over the last ``window`` tokens (the classic fixed-window model).

    per_step=True: tokens (B, T) -> logits (B, T, C), position t sees tokens t-n+1..t.
    per_step=False: -> logits (B, C) from each sequence's last n real tokens.
    Anything outside the window is invisible to it.
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        window: int = 5,
        embedding_size: int = 32,
        mlp_hidden: int = 128,
        dropout: float = 0.0,
        per_step: bool = True,
    ) -> None:
        super().__init__()
        self.window = window
        self.per_step = per_step
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=PAD_ID)
        self.classifier = mlp(window * embedding_size, mlp_hidden, num_classes, dropout)

    def _windows(self, tokens: Tensor) -> Tensor:
        """(B, T) -> (B, T, n) ids of the n tokens ending at each position (left padding)."""
        padded = F.pad(tokens, (self.window - 1, 0), value=PAD_ID)
        return padded.unfold(1, self.window, 1)

    def forward(
        self, tokens: Tensor, lengths: Tensor | None = None, state: None = None
    ) -> Tensor | tuple[Tensor, None]:
        windows = self._windows(tokens)  # (B, T, n)
        if not self.per_step:
            last = (
                (lengths - 1)
                if lengths is not None
                else torch.full((tokens.size(0),), tokens.size(1) - 1, device=tokens.device)
            )
            windows = windows[torch.arange(tokens.size(0), device=tokens.device), last]
        features = self.embedding(windows).flatten(-2)  # (..., n * E)
        logits = self.classifier(features)
        return (logits, None) if self.per_step else logits
