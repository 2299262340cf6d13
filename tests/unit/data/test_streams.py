"""The stream layout of a text (every token a target once, streams contiguous) and the
windows truncated BPTT runs over them (fixed, AWD-LSTM's random lengths, resumable)."""

from __future__ import annotations

import itertools

import pytest
import torch

from seqlab.data.streams import (
    IGNORE,
    StreamWindows,
    evaluation_stream_loader,
    stream_layout,
    training_stream_loader,
    window_bounds,
)
from seqlab.text.vocab import PAD_ID


@pytest.mark.parametrize(("tokens", "streams"), [(20, 4), (23, 4), (7, 7), (100, 3), (5, 1)])
def test_every_token_is_a_target_once_and_streams_are_contiguous(tokens: int, streams: int):
    ids = torch.arange(10, 11 + tokens)  # a context token, then `tokens` distinct ones
    inputs, targets = stream_layout(ids, streams)
    assert inputs.shape == targets.shape and inputs.size(0) == streams
    real = targets != IGNORE
    assert sorted(targets[real].tolist()) == ids[1:].tolist()  # each once
    lengths = real.sum(1)
    assert int(lengths.max() - lengths.min()) <= 1  # nearly equal streams
    assert (lengths[:-1] >= lengths[1:]).all()
    for row in range(streams):
        n = int(lengths[row])
        assert (real[row, :n]).all() and not real[row, n:].any()  # padding only at the end
        assert (targets[row, 1:n] == targets[row, : n - 1] + 1).all()  # consecutive text
        assert (inputs[row, :n] == targets[row, :n] - 1).all()  # reads the token before
        assert (inputs[row, n:] == PAD_ID).all()
    # stream b + 1 starts where stream b ends
    firsts = [int(targets[r, 0]) for r in range(streams)]
    lasts = [int(targets[r, int(lengths[r]) - 1]) for r in range(streams)]
    assert all(first == last + 1 for first, last in zip(firsts[1:], lasts[:-1], strict=True))


def test_more_streams_than_tokens_is_refused():
    with pytest.raises(ValueError, match="streams"):
        stream_layout(torch.arange(4), 5)


def test_fixed_windows_tile_the_streams():
    assert window_bounds(23, 5) == [(0, 5), (5, 10), (10, 15), (15, 20), (20, 23)]


def test_random_windows_tile_the_streams_in_a_fixed_count_and_vary_by_seed():
    first = window_bounds(10_000, 70, random_length=True, seed=1)
    assert len(first) == -(-10_000 // 70)
    assert first[0][0] == 0 and first[-1][1] == 10_000
    assert all(a[1] == b[0] for a, b in itertools.pairwise(first))
    lengths = [end - start for start, end in first]
    assert min(lengths) >= 5 and len(set(lengths)) > 10  # varied, AWD's floor kept
    assert sum(length < 50 for length in lengths) > 0  # some half-length windows (p = 0.05)
    assert window_bounds(10_000, 70, random_length=True, seed=1) == first
    assert window_bounds(10_000, 70, random_length=True, seed=2) != first


def test_one_training_epoch_sees_every_token_once():
    ids = torch.arange(4, 4 + 203)
    loader = training_stream_loader(ids, batch_size=4, steps=7, random_length=True)
    seen = [t for batch in loader for t in batch["targets"].flatten().tolist() if t != IGNORE]
    assert sorted(seen) == ids[1:].tolist()
    assert len(loader) == len(list(loader.sampler))


def test_evaluation_reads_every_token_in_order_in_one_stream():
    ids = torch.arange(4, 4 + 50)
    loader = evaluation_stream_loader(ids, streams=1, steps=8)
    seen = torch.cat([batch["targets"].flatten() for batch in loader])
    assert seen.tolist() == ids[1:].tolist()
    assert len(evaluation_stream_loader(ids[:3], streams=10, steps=8).dataset.inputs) == 2


def test_windows_resume_inside_an_epoch():
    sampler = StreamWindows(length=50, steps=6, random_length=True)
    torch.manual_seed(0)
    whole = list(sampler)
    sampler.consumed = 3
    resumed = StreamWindows(length=50, steps=6, random_length=True)
    resumed.load_state_dict(sampler.state_dict())
    assert list(resumed) == whole[3:]
