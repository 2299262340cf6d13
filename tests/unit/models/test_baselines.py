"""Models from before RNNs: the bag of words and the fixed window."""

from __future__ import annotations

import pytest
import torch

from seqlab.config.training import TrainingConfig
from seqlab.errors import ConfigError
from seqlab.models.baselines import BagOfWords, BagOfWordsConfig, WindowConfig, WindowMLP
from seqlab.spec import PER_STEP, SEQUENCE, TaskSpec


def test_bag_of_words_is_blind_to_order():
    model = BagOfWords(20, 2, BagOfWordsConfig(embedding_size=8, mlp_hidden=8))
    tokens = torch.tensor([[5, 6, 7, 8]])
    torch.testing.assert_close(model(tokens), model(tokens.flip(1)))


def test_window_sees_only_its_window():
    config = WindowConfig(window=3, embedding_size=4, mlp_hidden=8)
    model = WindowMLP(20, 3, config, per_step=True)
    tokens = torch.randint(1, 20, (2, 10))
    changed = tokens.clone()
    changed[:, 2] = (changed[:, 2] % 19) + 1
    logits, _ = model(tokens)
    logits_changed, _ = model(changed)
    torch.testing.assert_close(logits[:, 5:], logits_changed[:, 5:])  # t >= 2 + 3 unaffected
    assert not torch.allclose(logits[:, 2:5], logits_changed[:, 2:5])
    classifier = WindowMLP(20, 3, WindowConfig(window=2, embedding_size=4, mlp_hidden=8), False)
    lengths = torch.tensor([10, 4])
    padded = tokens.clone()
    padded[1, 4:] = 0
    out = classifier(padded, lengths)
    torch.testing.assert_close(out[1], classifier(tokens[1:2, 2:4], torch.tensor([2]))[0])


def test_configs_declare_their_outputs_and_build_per_output():
    assert BagOfWordsConfig.outputs == (SEQUENCE,)
    assert WindowConfig.outputs == (PER_STEP, SEQUENCE)
    per_step = WindowConfig().build(TaskSpec("t", PER_STEP, vocab_size=5, num_classes=3))
    sequence = WindowConfig().build(TaskSpec("t", SEQUENCE, vocab_size=5, num_classes=3))
    assert per_step.per_step and not sequence.per_step
    with pytest.raises(ConfigError, match="has no hidden state to carry"):
        WindowConfig().check_training(TrainingConfig(tbptt_steps=4))


@pytest.mark.parametrize(
    ("config", "options", "message"),
    [
        (WindowConfig, {"window": 0}, "model.window must be > 0"),
        (WindowConfig, {"mlp_hidden": 0}, "model.mlp_hidden must be > 0"),
        (BagOfWordsConfig, {"embedding_size": 0}, "model.embedding_size must be > 0"),
        (BagOfWordsConfig, {"dropout": 1.5}, r"model.dropout must be in \[0, 1\)"),
    ],
)
def test_bad_values_are_refused(config, options, message):
    with pytest.raises(ConfigError, match=message):
        config(**options)
