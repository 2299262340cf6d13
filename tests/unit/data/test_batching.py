"""Batching: tensor slices, length-grouped batches and token budgets."""

from __future__ import annotations

import itertools
import random

import pytest
import torch

from seqlab.data.batching import LengthBatchSampler, batch_loader, count_tokens
from seqlab.data.pairs import EncodedPairs
from seqlab.data.splits import split_generators, split_seed
from seqlab.text.vocab import BOS_ID, EOS_ID, PAD_ID


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


def _greedy_token_batches(lengths: list[int], budget: int) -> list[list[int]]:
    """The rule written out one sentence at a time (ascending lengths)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = [[]]
    for i in order:
        if batches[-1] and (len(batches[-1]) + 1) * lengths[i] > budget:
            batches.append([])
        batches[-1].append(i)
    return batches if order else []


@pytest.mark.parametrize("seed", range(20))
def test_token_budget_cuts_match_the_rule_one_sentence_at_a_time(seed):
    rng = random.Random(seed)
    lengths = [rng.choice([0, 1, 2, 3, 7, 40, 120]) for _ in range(rng.randint(0, 300))]
    budget = rng.choice([1, 50, 100, 333])
    sampler = LengthBatchSampler(lengths, 64, shuffle=False, batch_tokens=budget)
    assert list(sampler) == _greedy_token_batches(lengths, budget)
    assert len(sampler) == len(_greedy_token_batches(lengths, budget))


def test_length_batches_are_sorted_stably_and_cover_every_sentence():
    lengths = [3, 1, 2, 1, 3, 2, 1]
    assert list(LengthBatchSampler(lengths, 3, shuffle=False)) == [[1, 3, 6], [2, 5, 0], [4]]
    assert list(LengthBatchSampler([], 3, shuffle=False)) == []
    shuffled = LengthBatchSampler(lengths * 50, 8, shuffle=True, seed=-5)  # any int seed
    first, second = list(shuffled), list(shuffled)
    assert first != second  # a new order each epoch
    for epoch in (first, second):
        assert sorted(i for b in epoch for i in b) == list(range(350))


def test_encoded_pairs_batch_pads_and_marks_the_sentence_ends():
    sources = [[5, 6], [7], [8, 9, 10], [11]]
    targets = [[4], [], [12, 13], [14, 15, 16]]  # the last text ends the flat arrays

    def flat(texts: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        offsets = torch.tensor([0, *itertools.accumulate(len(t) for t in texts)])
        return torch.tensor([i for t in texts for i in t], dtype=torch.int32), offsets

    batch = EncodedPairs(flat(sources), flat(targets))[[3, 1, 2]]
    assert batch["src"].tolist() == [[11, PAD_ID, PAD_ID], [7, PAD_ID, PAD_ID], [8, 9, 10]]
    assert batch["src_lengths"].tolist() == [1, 1, 3]
    assert batch["tgt_in"].tolist() == [
        [BOS_ID, 14, 15, 16],
        [BOS_ID, PAD_ID, PAD_ID, PAD_ID],
        [BOS_ID, 12, 13, PAD_ID],
    ]
    assert batch["tgt_out"].tolist() == [
        [14, 15, 16, EOS_ID],
        [EOS_ID, PAD_ID, PAD_ID, PAD_ID],
        [12, 13, EOS_ID, PAD_ID],
    ]
    assert batch["index"].tolist() == [3, 1, 2]
    assert all(t.dtype == torch.int64 for t in batch.values())
    empty = EncodedPairs(flat([[], []]), flat([[1], []]))[[0, 1]]
    assert empty["src"].shape == (2, 0) and empty["tgt_out"].tolist() == [[1, EOS_ID], [EOS_ID, 0]]


def test_batches_of_an_epoch_held_on_a_device_equal_the_index_lists():
    """With the dataset on a device, the sampler sends an epoch's indices there in one copy
    and yields slices; the batches are those of the index lists (the CPU stands in for the
    device here; tests/integration/test_gpu.py checks a GPU)."""
    from seqlab.data.batching import ShuffledBatches, TensorDictDataset

    tensors = {"inputs": torch.arange(70).view(35, 2), "targets": torch.arange(35)}
    dataset = TensorDictDataset(tensors)
    lists, sliced = ShuffledBatches(35, 8), ShuffledBatches(35, 8)
    sliced.device = torch.device("cpu")
    torch.manual_seed(3)
    expected = [dataset[index] for index in lists]
    torch.manual_seed(3)
    found = [dataset[index] for index in sliced]
    assert len(found) == len(expected) == 5
    for a, b in zip(found, expected, strict=True):
        assert all(torch.equal(a[k], b[k]) for k in tensors)
