"""Shared data pipeline of the sequence-to-sequence tasks (translation, TSV, seq2seq copy).

A task provides (source words, target words) pairs per split; this module builds the
vocabularies from the training pairs, encodes, and batches by length: sentences of similar
source length go together (little padding, no packing), batch order is shuffled each epoch.

Batch: src (B, S) long, src_lengths (B,), tgt_in (B, T) = <bos> y1..yn, tgt_out (B, T) =
y1..yn <eos>, padded with 0; index (B,) the pairs' positions in their split.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from seqlab.tasks.base import SEQ2SEQ, Batch, TaskSpec
from seqlab.tasks.vocab import BOS_ID, EOS_ID, PAD_ID, Vocab

Pair = tuple[list[str], list[str]]


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


class LengthBatchSampler(Sampler[list[int]]):
    """Batches of similar source length; shuffled batch order (and ties) when ``shuffle``.

    ``batch_tokens`` (optional) sizes batches by tokens instead of sentences: as many
    sentences as fit in batch_tokens source tokens (padding included), so every optimizer step
    sees about the same amount of text whatever the sentence lengths (as in MT toolkits).
    """

    def __init__(
        self,
        lengths: list[int],
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
        batch_tokens: int | None = None,
    ) -> None:
        self.lengths = lengths
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self.num_batches = len(self._batches(list(range(len(lengths)))))

    def _batches(self, order: list[int]) -> list[list[int]]:
        order = sorted(order, key=lambda i: self.lengths[i])
        if self.batch_tokens is None:
            return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        batches: list[list[int]] = [[]]
        for i in order:  # ascending lengths: the newest sentence is the batch's longest
            if batches[-1] and (len(batches[-1]) + 1) * self.lengths[i] > self.batch_tokens:
                batches.append([])
            batches[-1].append(i)
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        rng = random.Random(self.seed + self.epoch)
        self.epoch += 1
        order = list(range(len(self.lengths)))
        if self.shuffle:
            rng.shuffle(order)  # random order among equal lengths (the sort is stable)
        batches = self._batches(order)
        if self.shuffle:
            rng.shuffle(batches)
        yield from batches

    def __len__(self) -> int:
        return self.num_batches


class Seq2SeqDataModule(L.LightningDataModule):
    """Base class: subclasses implement :meth:`make_pairs` returning train/val/test pairs."""

    task_name = "seq2seq"

    def __init__(
        self,
        batch_size: int = 64,
        min_freq: int = 1,
        max_vocab: int | None = None,
        data_seed: int = 0,
        batch_tokens: int | None = None,
    ) -> None:
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"task.batch_size must be >= 1, got {batch_size}")
        if batch_tokens is not None and batch_tokens < 1:
            raise ValueError(f"task.batch_tokens must be >= 1 or null, got {batch_tokens}")
        self.batch_tokens = batch_tokens
        if min_freq < 1:
            raise ValueError(f"task.min_freq must be >= 1, got {min_freq}")
        self.batch_size = batch_size
        self.min_freq = min_freq
        self.max_vocab = max_vocab
        self.data_seed = data_seed
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
            name=self.task_name,
            output=SEQ2SEQ,
            vocab_size=len(self.source_vocab),
            num_classes=len(self.target_vocab),
            pad_id=PAD_ID,
        )

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        data = self.splits[split]
        tokens = self.batch_tokens if split == "train" else None
        sampler = LengthBatchSampler(
            data.src_lengths, self.batch_size, shuffle, self.data_seed, tokens
        )
        return DataLoader(data, sampler=sampler, batch_size=None)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
