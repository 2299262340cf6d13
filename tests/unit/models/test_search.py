"""Greedy and beam search, and the decoding options."""

from __future__ import annotations

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.models.search import (
    DecodingConfig,
    beam_search,
    decode,
    greedy_decode,
    output_limits,
)
from seqlab.text.vocab import EOS_ID, PAD_ID
from tests.unit.models.test_encoder_decoder import _model, batch


@pytest.mark.parametrize(("cell", "attention"), [("gru", False), ("lstm", True)])
def test_beam_search_is_batch_consistent_and_scores_at_least_greedy(cell, attention):
    model = _model(cell, attention)
    src, lengths, _ = batch()
    beams = beam_search(model, src, lengths, beam_size=4, alpha=0.0, max_length=8)
    greedy = greedy_decode(model, src, lengths, max_length=8)
    assert torch.equal(beam_search(model, src, lengths, beam_size=1, max_length=8), greedy)

    def log_prob(tokens: torch.Tensor, row: int) -> float:
        seq = tokens[row].tolist()
        if EOS_ID in seq:
            seq = seq[: seq.index(EOS_ID) + 1]
        seq = [s for s in seq if s != PAD_ID]
        tgt_in = torch.tensor([[2, *seq[:-1]]])
        logits = model(src[row : row + 1, : lengths[row]], lengths[row : row + 1], tgt_in)
        return float(torch.log_softmax(logits.detach(), -1)[0, range(len(seq)), seq].sum())

    for row, n in enumerate(lengths.tolist()):
        alone = beam_search(model, src[row : row + 1, :n], lengths[row : row + 1], 4, 0.0, 8)
        width = alone.size(1)
        assert beams[row, :width].tolist() == alone[0].tolist()
        assert log_prob(beams, row) >= log_prob(greedy, row) - 1e-4


def test_decode_follows_the_options():
    model = _model("gru", True)
    src, lengths, _ = batch()
    greedy = decode(model, src, lengths, DecodingConfig(max_length=5), 2.0)
    assert torch.equal(greedy, greedy_decode(model, src, lengths, 5)) and greedy.size(1) <= 5
    beams = decode(model, src, lengths, DecodingConfig(beam_size=3, max_length=5), 2.0)
    assert torch.equal(beams, beam_search(model, src, lengths, 3, 0.6, 5))


def test_output_limits_come_from_the_length_ratio():
    lengths = torch.tensor([7, 3, 5])
    assert output_limits(lengths, 1.5).tolist() == [21, 15, 18]  # ceil(1.5 x) + 10
    assert output_limits(lengths, 2.0, max_length=4).tolist() == [4, 4, 4]


@pytest.mark.parametrize("beam_size", [1, 3])
def test_each_sentence_stops_at_its_own_limit(beam_size):
    """An untrained model rarely says <eos>: every output runs to its own limit."""
    model = _model("lstm", False)
    src, lengths, _ = batch()
    limits = torch.tensor([2, 9, 5])
    tokens = (
        greedy_decode(model, src, lengths, limits)
        if beam_size == 1
        else beam_search(model, src, lengths, beam_size, 0.6, limits)
    )
    produced = (tokens != PAD_ID).sum(1)
    ended = (tokens == EOS_ID).any(1)
    assert bool(((produced == limits) | ended).all()) and bool((produced <= limits).all())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"beam_size": 0}, "decoding.beam_size must be >= 1"),
        ({"bucket_width": 0}, "decoding.bucket_width must be >= 1"),
        ({"length_penalty": -1.0}, "decoding.length_penalty must be >= 0"),
        ({"length_penalty": float("inf")}, "decoding.length_penalty must be finite"),
        ({"max_length": 0}, "decoding.max_length must be >= 1 or null"),
    ],
)
def test_bad_decoding_options_are_refused(options, message):
    with pytest.raises(ConfigError, match=message):
        DecodingConfig(**options)
