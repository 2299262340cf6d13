"""The vanilla / lstm / gru / bi family: its config, the tagger and the classifier, and the
padding helpers they rely on."""

from __future__ import annotations

import pytest
import torch

from seqlab.config.training import TrainingConfig
from seqlab.errors import ConfigError
from seqlab.models.padding import known_unpadded, last_position, real_mask, reverse_padded
from seqlab.models.recurrent import RecurrentConfig
from seqlab.models.rnn import RecurrentClassifier, RecurrentTagger, RNNConfig
from seqlab.spec import NEXT_TOKEN, PER_STEP, SEQUENCE, TaskSpec


def test_reverse_padded_reverses_within_length_and_is_an_involution():
    x = torch.arange(10).view(2, 5, 1).float()
    lengths = torch.tensor([5, 3])
    r = reverse_padded(x, lengths)
    assert r[0, :, 0].tolist() == [4, 3, 2, 1, 0]
    assert r[1, :, 0].tolist() == [7, 6, 5, 8, 9]  # padding positions 8, 9 stay
    torch.testing.assert_close(reverse_padded(r, lengths), x)


def test_last_position_and_real_mask():
    out = torch.arange(12).view(2, 3, 2).float()
    assert last_position(out, torch.tensor([1, 3])).tolist() == [[0, 1], [10, 11]]
    mask = real_mask(torch.zeros(2, 3), torch.tensor([1, 3]))
    assert mask.tolist() == [[True, False, False], [True, True, True]]
    assert bool(real_mask(torch.zeros(2, 3), None).all())


def test_unpadded_batches_are_recognised_without_reading_a_device():
    assert known_unpadded(None, 4) and known_unpadded(torch.tensor([4, 4]), 4)
    assert not known_unpadded(torch.tensor([4, 2]), 4)
    # lengths on an accelerator count as padded, unread (reading a meta tensor would raise);
    # the padded path gives the same numbers on full rows (test_cells.py: padded batches)
    assert not known_unpadded(torch.tensor([4, 4], device="meta"), 4)


def test_tagger_shapes_for_every_cell_and_direction():
    for cell in ("rnn", "lstm", "gru"):
        for bidirectional in (False, True):
            config = RecurrentConfig(
                cell=cell, embedding_size=6, hidden_size=5, layers=2, bidirectional=bidirectional
            )
            logits, state = RecurrentTagger(10, 4, config)(torch.randint(0, 10, (3, 7)))
            assert logits.shape == (3, 7, 4)
            h = state[0] if isinstance(state, tuple) else state
            assert h.shape == (2 * (2 if bidirectional else 1), 3, 5)


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_classifier_pooling_ignores_padding(pooling, bidirectional):
    config = RecurrentConfig(
        cell="gru", embedding_size=6, hidden_size=5, bidirectional=bidirectional
    )
    model = RecurrentClassifier(20, 2, config, pooling)
    tokens = torch.randint(1, 20, (2, 7))
    lengths = torch.tensor([7, 4])
    tokens[1, 4:] = 0
    batched = model(tokens, lengths)
    alone = model(tokens[1:2, :4], torch.tensor([4]))
    torch.testing.assert_close(batched[1], alone[0], rtol=1e-5, atol=1e-5)


def test_the_config_builds_the_head_the_task_asks_for():
    config = RNNConfig(cell="gru", hidden_size=8, embedding_size=4, pooling="max")
    tagger = config.build(TaskSpec("t", PER_STEP, vocab_size=7, num_classes=3))
    classifier = config.build(TaskSpec("s", SEQUENCE, vocab_size=7, num_classes=2))
    assert isinstance(tagger, RecurrentTagger) and isinstance(classifier, RecurrentClassifier)
    assert classifier.pooling == "max" and classifier.head.out_features == 2
    language_model = config.build(TaskSpec("l", NEXT_TOKEN, vocab_size=7, num_classes=7))
    assert isinstance(language_model, RecurrentTagger) and language_model.head.out_features == 7
    assert RNNConfig.outputs == (PER_STEP, SEQUENCE, NEXT_TOKEN) and RNNConfig.carries_state


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"hidden_size": 0}, "model.hidden_size must be > 0"),
        ({"embedding_size": -3}, "model.embedding_size must be > 0"),
        ({"layers": 0}, "model.layers must be > 0"),
        ({"recurrent_gain": 0.0}, "model.recurrent_gain must be > 0"),
        ({"dropout": 1.0}, r"model.dropout must be in \[0, 1\)"),
        ({"dropout": -0.1}, r"model.dropout must be in \[0, 1\)"),
        ({"cell": "lstmm"}, "model.cell='lstmm' is unknown; choose one of rnn, lstm, gru"),
        ({"impl": "cuda"}, "model.impl='cuda' is unknown"),
        ({"recurrent_init": "xavier"}, "model.recurrent_init='xavier' is unknown"),
        ({"forget_bias": float("nan")}, "model.forget_bias must be finite"),
        ({"pooling": "sum"}, "model.pooling='sum' is unknown; choose one of last, mean, max"),
    ],
)
def test_bad_values_are_refused(options, message):
    with pytest.raises(ConfigError, match=message):
        RNNConfig(**options)


def test_truncated_bptt_is_refused_for_a_bidirectional_model():
    with pytest.raises(ConfigError, match="backward direction needs the whole sequence"):
        RNNConfig(bidirectional=True).check_training(TrainingConfig(tbptt_steps=10))
    RNNConfig().check_training(TrainingConfig(tbptt_steps=10))
