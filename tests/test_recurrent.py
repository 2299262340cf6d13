"""Padding helpers and the per-step model."""

from __future__ import annotations

import torch

from seqlab.models.per_step import RecurrentTagger
from seqlab.models.recurrent import last_position, reverse_padded


def test_reverse_padded_reverses_within_length_and_is_an_involution():
    x = torch.arange(10).view(2, 5, 1).float()
    lengths = torch.tensor([5, 3])
    r = reverse_padded(x, lengths)
    assert r[0, :, 0].tolist() == [4, 3, 2, 1, 0]
    assert r[1, :, 0].tolist() == [7, 6, 5, 8, 9]  # padding positions 8, 9 stay
    torch.testing.assert_close(reverse_padded(r, lengths), x)


def test_last_position_takes_each_sequences_last_real_step():
    out = torch.arange(12).view(2, 3, 2).float()
    assert last_position(out, torch.tensor([1, 3])).tolist() == [[0, 1], [10, 11]]


def test_tagger_shapes_for_every_cell_and_direction():
    for cell in ("rnn", "lstm", "gru"):
        for bidirectional in (False, True):
            model = RecurrentTagger(
                10,
                4,
                cell=cell,
                embedding_size=6,
                hidden_size=5,
                layers=2,
                bidirectional=bidirectional,
            )
            logits, state = model(torch.randint(0, 10, (3, 7)))
            assert logits.shape == (3, 7, 4)
            h = state[0] if isinstance(state, tuple) else state
            assert h.shape == (2 * (2 if bidirectional else 1), 3, 5)
