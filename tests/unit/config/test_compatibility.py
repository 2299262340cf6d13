"""Model × task compatibility, read from the models' ``outputs`` and the tasks' ``offers``."""

from __future__ import annotations

import pytest

from seqlab.config.compatibility import check_combination, check_spec, choose_output, shipped_models
from seqlab.config.training import TrainingConfig
from seqlab.errors import ConfigError
from seqlab.models.baselines import BagOfWordsConfig, WindowConfig
from seqlab.models.encoder_decoder import Seq2SeqConfig
from seqlab.models.rnn import RNNConfig
from seqlab.spec import NEXT_TOKEN, PER_STEP, SEQ2SEQ, SEQUENCE, TaskSpec
from seqlab.tasks.copy import CopyConfig
from seqlab.tasks.sentiment import SentimentConfig
from seqlab.tasks.translation import TranslationConfig


def test_shipped_models_are_read_from_their_declarations():
    models = shipped_models()
    assert models["lstm"] == (PER_STEP, SEQUENCE, NEXT_TOKEN) and models["bow"] == (SEQUENCE,)
    assert models["bi"] == (PER_STEP, SEQUENCE)  # it reads ahead: never a language model
    assert models["seq2seq_attention"] == (SEQ2SEQ,) and len(models) == 10
    assert models["mingru"] == (PER_STEP, SEQUENCE, NEXT_TOKEN)


def test_the_task_chooses_the_output_a_model_can_produce():
    assert choose_output(RNNConfig(), CopyConfig()) == PER_STEP
    assert choose_output(Seq2SeqConfig(), CopyConfig()) == SEQ2SEQ
    assert choose_output(WindowConfig(), SentimentConfig()) == SEQUENCE


def test_an_impossible_pair_names_the_models_that_can():
    with pytest.raises(ConfigError, match="Models that can: seq2seq, seq2seq_attention"):
        choose_output(RNNConfig(name="lstm"), TranslationConfig())
    with pytest.raises(ConfigError, match="model=bow cannot be trained on task=copy"):
        choose_output(BagOfWordsConfig(), CopyConfig())


def test_truncated_bptt_needs_a_per_step_task_with_equal_lengths():
    tbptt = TrainingConfig(tbptt_steps=5)
    assert check_combination(RNNConfig(), CopyConfig(), tbptt) == PER_STEP
    with pytest.raises(ConfigError, match="needs a per-step task"):
        check_combination(RNNConfig(), SentimentConfig(), tbptt)
    with pytest.raises(ConfigError, match="no hidden state to carry"):
        check_combination(Seq2SeqConfig(), CopyConfig(), tbptt)
    with pytest.raises(ConfigError, match="task=padded does not"):
        check_spec(TaskSpec("padded", PER_STEP, 5, 5, fixed_length=False), tbptt)
    check_spec(TaskSpec("padded", PER_STEP, 5, 5, fixed_length=False), TrainingConfig())
