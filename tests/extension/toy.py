"""A model and a task that exist only here, to prove that adding either to seqlab takes one
module (this one; in practice one per model or task) and one yaml (configs/), with no edit
anywhere in seqlab. tests/integration/test_extension.py trains one on the other.

The task: at every position, output the token one step back (0 at the first position).
The model: an embedding of the current and the previous token, then a linear layer; it
declares it can produce one output per step or one label per sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightning as L
import torch
from torch import Tensor, nn

from seqlab.config.schema import ModelConfig, TaskConfig
from seqlab.data.splits import TensorSplitsDataModule, split_generators
from seqlab.spec import PER_STEP, SEQUENCE, TaskSpec


@dataclass
class PairEmbeddingConfig(ModelConfig):
    _target_: str = "tests.extension.toy.PairEmbeddingConfig"
    name: str = "pair_embedding"
    embedding_size: int = 8

    outputs = (PER_STEP, SEQUENCE)

    def build(self, spec: TaskSpec) -> nn.Module:
        return PairEmbedding(spec.vocab_size, spec.num_classes, self.embedding_size)


class PairEmbedding(nn.Module):
    """tokens (B, T) -> logits (B, T, C) from the tokens at t and t - 1."""

    def __init__(self, vocab_size: int, num_classes: int, embedding_size: int) -> None:
        super().__init__()
        self.current = nn.Embedding(vocab_size, embedding_size)
        self.previous = nn.Embedding(vocab_size, embedding_size)
        self.head = nn.Linear(embedding_size, num_classes)

    def forward(self, tokens: Tensor, lengths: Tensor | None = None, state: None = None):
        shifted = torch.nn.functional.pad(tokens, (1, 0))[:, :-1]
        return self.head(torch.relu(self.current(tokens) + self.previous(shifted))), None


@dataclass
class PreviousTokenConfig(TaskConfig):
    _target_: str = "tests.extension.toy.PreviousTokenConfig"
    name: str = "previous_token"
    symbols: int = 6
    length: int = 8
    n_train: int = 512
    n_val: int = 128
    n_test: int = 128
    batch_size: int = 64
    data_seed: int = 0

    offers = (PER_STEP,)

    def build(self, output: str) -> L.LightningDataModule:
        return PreviousTokenData(self)


class PreviousTokenData(TensorSplitsDataModule):
    def __init__(self, config: PreviousTokenConfig) -> None:
        super().__init__()
        self.config = config
        self.batch_size = config.batch_size
        self.splits = {}
        self.spec = TaskSpec(
            name=config.name,
            output=PER_STEP,
            vocab_size=config.symbols + 1,
            num_classes=config.symbols + 1,
            fixed_length=True,
        )

    def setup(self, stage: str | None = None) -> None:
        c = self.config
        generators = split_generators(c.data_seed)
        for split, n in (("train", c.n_train), ("val", c.n_val), ("test", c.n_test)):
            inputs = torch.randint(1, c.symbols + 1, (n, c.length), generator=generators[split])
            targets = torch.nn.functional.pad(inputs, (1, 0))[:, :-1]
            self.splits[split] = {"inputs": inputs, "targets": targets}


# The classes a config may name once the user lists this module in SEQLAB_EXTENSIONS
# (seqlab.config.targets); without it, a config naming them is refused before any import.
SCHEMAS = {"pair_embedding": PairEmbeddingConfig, "previous_token": PreviousTokenConfig}
