"""Batching: tensor slices, length-grouped batches and token budgets."""

from __future__ import annotations

import random

import torch

from seqlab.tasks.batching import LengthBatchSampler, batch_loader, count_tokens
from seqlab.tasks.splits import split_generators, split_seed


def test_length_batches_group_similar_lengths():
    lengths = [random.Random(i).randint(1, 40) for i in range(200)]
    batches = list(LengthBatchSampler(lengths, 16, shuffle=True))
    assert sorted(i for b in batches for i in b) == list(range(200))
    assert max(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) <= 8


def test_token_budget_batches_hold_about_the_same_text():
    lengths = [random.Random(i).randint(1, 50) for i in range(2000)]
    sampler = LengthBatchSampler(lengths, 64, shuffle=True, batch_tokens=800)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    assert sorted(i for b in batches for i in b) == list(range(2000))
    padded = [max(lengths[i] for i in b) * len(b) for b in batches]
    assert max(padded) <= 800 and sorted(padded)[len(padded) // 2] > 600
    shortest = min(batches, key=lambda b: max(lengths[i] for i in b))
    longest = max(batches, key=lambda b: max(lengths[i] for i in b))
    assert len(shortest) > 10 * len(longest)  # many short sentences, few long ones


def test_batch_loader_slices_whole_batches_and_counts_tokens():
    tensors = {"inputs": torch.arange(70).view(35, 2), "targets": torch.zeros(35, 2)}
    batches = list(batch_loader(tensors, 16, shuffle=False))
    assert [len(b["inputs"]) for b in batches] == [16, 16, 3]
    assert count_tokens(batches[0]) == 32
    padded = {"inputs": torch.zeros(2, 5), "lengths": torch.tensor([5, 2])}
    assert count_tokens(padded) == 7


def test_split_seeds_are_disjoint_and_reproducible():
    seeds = {split_seed(d, s) for d in range(5) for s in ("train", "val", "test", "extra")}
    assert len(seeds) == 20
    a, b = split_generators(3), split_generators(3)
    assert torch.equal(torch.rand(3, generator=a["val"]), torch.rand(3, generator=b["val"]))
