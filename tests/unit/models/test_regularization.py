"""The language-model regularisers as model options: locked (variational) dropout, embedding
dropout, weight drop on W_hh, separate input and output dropout, tied embeddings."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from seqlab.errors import ConfigError
from seqlab.models import count_parameters
from seqlab.models.recurrent import Recurrent
from seqlab.models.regularization import LockedDropout, drop_weights, embedding_dropout
from seqlab.models.rnn import RecurrentTagger, RNNConfig
from seqlab.spec import NEXT_TOKEN, PER_STEP, TaskSpec


def test_locked_dropout_uses_one_mask_for_every_time_step():
    dropout = LockedDropout(0.5).train()
    out = dropout(torch.ones(64, 7, 16))
    assert torch.equal(out, out[:, :1].expand_as(out))  # the same at every step
    kept = (out[:, 0] != 0).float().mean()
    assert 0.4 < float(kept) < 0.6 and set(out.unique().tolist()) <= {0.0, 2.0}
    assert torch.equal(dropout.eval()(out), out)


def test_embedding_dropout_drops_whole_token_types():
    torch.manual_seed(0)
    weight = torch.ones(50, 4)
    dropped = embedding_dropout(weight, 0.5, training=True)
    rows = dropped.abs().sum(1)
    assert set(rows.tolist()) == {0.0, 8.0}  # a row is all gone or all kept (scaled by 2)
    tokens = torch.tensor([[3, 3, 7, 3]])
    embedded = F.embedding(tokens, dropped)
    assert torch.equal(embedded[0, 0], embedded[0, 1]) and torch.equal(
        embedded[0, 0], embedded[0, 3]
    )
    assert embedding_dropout(weight, 0.5, training=False) is weight


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_weight_drop_runs_the_recurrence_with_a_dropped_w_hh(cell: str):
    torch.manual_seed(0)
    recurrent = Recurrent(cell, 3, 5, weight_drop=0.5).train()
    x = torch.randn(2, 6, 3)
    torch.manual_seed(1)
    dropped = recurrent(x).outputs
    # the same draw by hand: W_hh masked once for the whole sequence, the kernel run with it
    reference = Recurrent(cell, 3, 5).eval()
    reference.load_state_dict(recurrent.state_dict())
    torch.manual_seed(1)
    with torch.no_grad():
        w_hh = reference.rnn.weight_hh_l0
        w_hh.copy_(drop_weights(w_hh.clone(), 0.5, training=True))
    assert torch.allclose(dropped, reference(x).outputs, atol=1e-6)
    assert not torch.allclose(dropped, recurrent.eval()(x).outputs)  # evaluation drops nothing
    recurrent.train()
    recurrent(x).outputs.sum().backward()
    assert recurrent.rnn.weight_hh_l0.grad is not None  # the raw weight learns


def test_locked_dropout_between_layers_keeps_one_mask_over_time():
    torch.manual_seed(0)
    recurrent = Recurrent("gru", 3, 4, num_layers=2, dropout=0.5, locked_dropout=True).train()
    captured = []
    recurrent.between_layers.register_forward_hook(lambda m, i, o: captured.append((i[0], o)))
    recurrent(torch.randn(5, 9, 3))
    ((before, after),) = captured
    mask = after / before
    assert torch.allclose(mask, mask[:, :1].expand_as(mask), equal_nan=True)
    assert isinstance(recurrent.between_layers, LockedDropout)


def test_input_and_output_dropout_take_their_own_rates():
    config = RNNConfig(dropout=0.3, input_dropout=0.0, output_dropout=0.6, locked_dropout=True)
    model = RecurrentTagger(10, 10, config)
    assert isinstance(model.dropout, LockedDropout) and model.dropout.p == 0.6
    assert model.input_dropout.p == 0.0 and model.encoder.dropout == 0.3
    default = RecurrentTagger(10, 10, RNNConfig(dropout=0.3))
    assert isinstance(default.input_dropout, nn.Dropout) and default.input_dropout.p == 0.3


def test_tied_embeddings_share_one_matrix():
    config = RNNConfig(embedding_size=16, hidden_size=16, tie_embeddings=True)
    spec = TaskSpec("lm", NEXT_TOKEN, 30, 30)
    tied = config.build(spec)
    assert tied.head.weight is tied.embedding.weight
    untied = RNNConfig(embedding_size=16, hidden_size=16).build(spec)
    assert count_parameters(untied) - count_parameters(tied) == 30 * 16
    logits, _ = tied(torch.randint(0, 30, (2, 5)))
    logits.sum().backward()
    assert tied.embedding.weight.grad is not None


def test_tied_embeddings_check_their_sizes_and_their_task():
    with pytest.raises(ConfigError, match="model.embedding_size must equal model.hidden_size"):
        RNNConfig(embedding_size=8, hidden_size=16, tie_embeddings=True)
    config = RNNConfig(embedding_size=16, hidden_size=16, tie_embeddings=True)
    with pytest.raises(ConfigError, match="applies to language models"):
        config.check_output(PER_STEP)


@pytest.mark.parametrize(
    "key", ["input_dropout", "output_dropout", "embedding_dropout", "weight_drop"]
)
def test_regulariser_rates_are_probabilities(key: str):
    with pytest.raises(ConfigError, match=f"model.{key} is a probability"):
        RNNConfig(**{key: 1.0})
