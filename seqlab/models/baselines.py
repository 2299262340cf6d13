"""Models from before RNNs: bag of words (``bow``) and a fixed-window MLP (``window``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.config.checks import require_positive
from seqlab.config.schema import ModelConfig
from seqlab.errors import ConfigError
from seqlab.models.padding import real_mask
from seqlab.spec import PER_STEP, SEQUENCE, TaskSpec
from seqlab.text.vocab import PAD_ID


def mlp(inputs: int, hidden: int, outputs: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(inputs, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, outputs)
    )


def _check_mlp_options(embedding_size: int, mlp_hidden: int, dropout: float) -> None:
    require_positive("model", embedding_size=embedding_size, mlp_hidden=mlp_hidden)
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"model.dropout must be in [0, 1), got {dropout}")


@dataclass
class BagOfWordsConfig(ModelConfig):
    """bow: the mean of the word embeddings, then an MLP with ``mlp_hidden`` units and
    ``dropout`` (also on the embeddings); ``pretrained_embeddings`` as for the recurrent
    models. Blind to word order by construction."""

    _target_: str = "seqlab.models.baselines.BagOfWordsConfig"
    name: str = "bow"
    embedding_size: int = 64
    mlp_hidden: int = 128
    dropout: float = 0.0
    pretrained_embeddings: str | None = None

    outputs = (SEQUENCE,)

    def __post_init__(self) -> None:
        _check_mlp_options(self.embedding_size, self.mlp_hidden, self.dropout)

    def build(self, spec: TaskSpec) -> nn.Module:
        return BagOfWords(spec.vocab_size, spec.num_classes, self)


@dataclass
class WindowConfig(ModelConfig):
    """window: an MLP over the last ``window`` tokens (per position on per-step tasks, the
    sequence's last tokens on sequence tasks). Anything outside the window is invisible."""

    _target_: str = "seqlab.models.baselines.WindowConfig"
    name: str = "window"
    window: int = 5
    embedding_size: int = 32
    mlp_hidden: int = 128
    dropout: float = 0.0
    pretrained_embeddings: str | None = None

    outputs = (PER_STEP, SEQUENCE)

    def __post_init__(self) -> None:
        require_positive("model", window=self.window)
        _check_mlp_options(self.embedding_size, self.mlp_hidden, self.dropout)

    def build(self, spec: TaskSpec) -> nn.Module:
        return WindowMLP(spec.vocab_size, spec.num_classes, self, per_step=spec.output == PER_STEP)


class BagOfWords(nn.Module):
    """tokens (B, T) -> logits (B, C): the mean of the word embeddings, then an MLP."""

    def __init__(self, vocab_size: int, num_classes: int, config: BagOfWordsConfig) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, config.embedding_size, padding_idx=PAD_ID)
        self.classifier = mlp(config.embedding_size, config.mlp_hidden, num_classes, config.dropout)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, tokens: Tensor, lengths: Tensor | None = None) -> Tensor:
        mask = real_mask(tokens, lengths).unsqueeze(-1).float()  # (B, T, 1)
        embedded = self.dropout(self.embedding(tokens))
        mean = (embedded * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.classifier(mean)


class WindowMLP(nn.Module):
    """An MLP over the last ``window`` tokens (the classic fixed-window model).

    per_step=True: tokens (B, T) -> logits (B, T, C), position t sees tokens t-n+1..t.
    per_step=False: -> logits (B, C) from each sequence's last n real tokens.
    """

    def __init__(
        self, vocab_size: int, num_classes: int, config: WindowConfig, per_step: bool = True
    ) -> None:
        super().__init__()
        self.window = config.window
        self.per_step = per_step
        self.embedding = nn.Embedding(vocab_size, config.embedding_size, padding_idx=PAD_ID)
        self.classifier = mlp(
            config.window * config.embedding_size, config.mlp_hidden, num_classes, config.dropout
        )

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


# The schemas this module declares, stored in Hydra's ConfigStore by
# seqlab.engine.run_config.register_schemas as schema/model/<name>.
SCHEMAS = {"bow": BagOfWordsConfig, "window": WindowConfig}
