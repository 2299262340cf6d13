"""Word vocabularies."""

from __future__ import annotations

import pytest

from seqlab.text.vocab import EOS_ID, UNK_ID, Vocab


def test_vocab_min_freq_max_size_and_unknown_words():
    vocab = Vocab.build([["a", "a", "b", "c"], ["a", "b"]], min_freq=2)
    assert vocab.itos[4:] == ["a", "b"]
    assert vocab.encode(["a", "c"]) == [4, UNK_ID]
    assert Vocab.build([["a", "a", "b", "c"]], max_size=1).itos[4:] == ["a"]
    assert vocab.decode([4, 5, EOS_ID, 4]) == ["a", "b"]
    assert Vocab.from_list(vocab.to_list()).itos == vocab.itos


def test_a_list_without_the_specials_is_not_a_vocabulary():
    with pytest.raises(ValueError, match="not a seqlab vocabulary"):
        Vocab.from_list(["a", "b"])
