"""Tagging where the sense of an ambiguous word is decided by a later cue."""

from __future__ import annotations

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.tasks.tagging import (
    AMBIGUOUS,
    CUES,
    TAGS,
    WORDS,
    TaggingConfig,
    TaggingDataModule,
    generate_tagging,
)


def test_tagging_ambiguous_words_take_the_sense_of_the_later_cue():
    data = generate_tagging(300, 20, 2, 3, torch.Generator().manual_seed(0))
    inputs, targets, focus = data["inputs"], data["targets"], data["focus"]
    assert int(focus.sum()) == 600
    for row, position in focus.nonzero().tolist():
        assert WORDS[inputs[row, position]] in AMBIGUOUS
        later = [WORDS[i] for i in inputs[row, position + 1 : position + 4]]
        sense = TAGS[targets[row, position]]
        assert any(w in CUES[sense] for w in later)
    with pytest.raises(ValueError, match="too short"):
        generate_tagging(1, 4, 2, 3, torch.Generator())


def test_data_module_splits_and_spec():
    dm = TaggingDataModule(TaggingConfig(n_train=40, n_val=8, n_test=8, batch_size=16))
    dm.setup()
    assert dm.splits["train"]["inputs"].shape == (40, 20)
    assert dm.spec.fixed_length and dm.spec.focus_metric == "acc_ambiguous"
    assert [len(b["inputs"]) for b in dm.train_dataloader()] == [16, 16, 8]


def test_bad_values_are_refused():
    with pytest.raises(ConfigError, match="task.length=4 is too short"):
        TaggingConfig(length=4)
    with pytest.raises(ConfigError, match="task.max_gap must be >= 1"):
        TaggingConfig(max_gap=0)
