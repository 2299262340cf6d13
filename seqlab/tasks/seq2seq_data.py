"""Shared data pipeline of the sequence-to-sequence tasks (translation, TSV, seq2seq copy).

A task provides (source words, target words) pairs per split; this module builds the
vocabularies from the training pairs, encodes, and batches by length: sentences of similar
source length go together (little padding, no packing), batch order is shuffled each epoch.

Batch: src (B, S) long, src_lengths (B,), tgt_in (B, T) = <bos> y1..yn, tgt_out (B, T) =
y1..yn <eos>, padded with 0; index (B,) the pairs' positions in their split.
"""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from seqlab.errors import ConfigError
from seqlab.spec import SEQ2SEQ, TaskSpec
from seqlab.tasks.batching import Batch, length_loader
from seqlab.tasks.vocab import BOS_ID, EOS_ID, PAD_ID, Vocab

Pair = tuple[list[str], list[str]]


def check_vocabulary_and_batching(batch_tokens: int | None, max_vocab: int | None) -> None:
    """Shared by the parallel-text tasks: optional sizes must be >= 1 when set."""
    if batch_tokens is not None and batch_tokens < 1:
        raise ConfigError(f"task.batch_tokens must be >= 1 or null, got {batch_tokens}")
    if max_vocab is not None and max_vocab < 1:
        raise ConfigError(f"task.max_vocab must be >= 1 or null, got {max_vocab}")


class EncodedPairs(Dataset):
    """Encoded pairs; indexing with a list of positions returns one padded batch."""

    def __init__(self, pairs: list[Pair], source: Vocab, target: Vocab) -> None:
        self.pairs = pairs
        self.src = [torch.tensor(source.encode(s), dtype=torch.long) for s, _ in pairs]
        self.tgt = [torch.tensor(target.encode(t), dtype=torch.long) for _, t in pairs]
        self.src_lengths = [len(s) for s, _ in pairs]

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: list[int]) -> Batch:
        src = [self.src[i] for i in index]
        tgt = [self.tgt[i] for i in index]
        batch_size = len(index)
        s_max = max(len(s) for s in src)
        t_max = max(len(t) for t in tgt) + 1
        src_t = torch.full((batch_size, s_max), PAD_ID, dtype=torch.long)
        tgt_in = torch.full((batch_size, t_max), PAD_ID, dtype=torch.long)
        tgt_out = torch.full((batch_size, t_max), PAD_ID, dtype=torch.long)
        for row, (s, t) in enumerate(zip(src, tgt, strict=True)):
            src_t[row, : len(s)] = s
            tgt_in[row, 0] = BOS_ID
            tgt_in[row, 1 : len(t) + 1] = t
            tgt_out[row, : len(t)] = t
            tgt_out[row, len(t)] = EOS_ID
        return {
            "src": src_t,
            "src_lengths": torch.tensor([len(s) for s in src]),
            "tgt_in": tgt_in,
            "tgt_out": tgt_out,
            "index": torch.tensor(index),
        }


class Seq2SeqDataModule(L.LightningDataModule):
    """Base class: subclasses implement :meth:`make_pairs` returning train/val/test pairs.

    name: the task's name in the spec; batch_size: sentences per batch (evaluation, and
    training unless batch_tokens); min_freq / max_vocab: vocabulary from the training pairs;
    batch_tokens: training batches of about this many source tokens instead;
    solved_when: the spec's stop criterion, if the task has one.
    """

    def __init__(
        self,
        name: str,
        batch_size: int = 64,
        min_freq: int = 1,
        max_vocab: int | None = None,
        data_seed: int = 0,
        batch_tokens: int | None = None,
        solved_when: tuple[str, float] | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.batch_size = batch_size
        self.min_freq = min_freq
        self.max_vocab = max_vocab
        self.data_seed = data_seed
        self.batch_tokens = batch_tokens
        self.solved_when = solved_when
        self.splits: dict[str, EncodedPairs] = {}
        self.source_vocab: Vocab | None = None
        self.target_vocab: Vocab | None = None

    def make_pairs(self) -> dict[str, list[Pair]]:
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        pairs = self.make_pairs()
        if self.source_vocab is None or self.target_vocab is None:
            self.source_vocab = Vocab.build(
                (s for s, _ in pairs["train"]), self.min_freq, self.max_vocab
            )
            self.target_vocab = Vocab.build(
                (t for _, t in pairs["train"]), self.min_freq, self.max_vocab
            )
        self.splits = {
            name: EncodedPairs(p, self.source_vocab, self.target_vocab) for name, p in pairs.items()
        }

    @property
    def spec(self) -> TaskSpec:
        if self.source_vocab is None or self.target_vocab is None:
            self.setup()
        assert self.source_vocab is not None and self.target_vocab is not None
        return TaskSpec(
            name=self.name,
            output=SEQ2SEQ,
            vocab_size=len(self.source_vocab),
            num_classes=len(self.target_vocab),
            solved_when=self.solved_when,
            source_vocab=self.source_vocab,
            target_vocab=self.target_vocab,
        )

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        data = self.splits[split]
        tokens = self.batch_tokens if split == "train" else None
        return length_loader(
            data, data.src_lengths, self.batch_size, shuffle, self.data_seed, tokens
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
