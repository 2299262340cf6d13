"""Word vocabularies."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from seqlab.tasks.vocab import EOS_ID, UNK_ID, Vocab, alphabetical_order


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


@pytest.mark.parametrize("max_size", [None, 3, 5])
@pytest.mark.parametrize("min_freq", [1, 2])
def test_count_arrays_give_the_vocabulary_of_counts(max_size, min_freq):
    """Sorted arrays give from_counts' vocabulary (falling count, ties alphabetical) and each
    word's id, a special's spelling in the text included."""
    words = ["b", "a", "<unk>", "c", "d", "e", "<pad>"]
    counts = np.array([3, 3, 5, 1, 2, 2, 4])
    vocab, ids = Vocab.from_count_array(words, counts, min_freq, max_size)
    counted = Counter(dict(zip(words, counts.tolist(), strict=True)))
    expected = Vocab.from_counts(counted, min_freq, max_size)
    assert vocab.itos == expected.itos
    assert ids.tolist() == [expected.stoi.get(w, UNK_ID) for w in words]


def test_alphabetical_order_is_pythons_string_order():
    """Words sorted on their first 16 UTF-8 bytes in arrays, with NULs, non-ASCII, lone
    surrogates and long words that tie on their first 16 bytes, sort as ``sorted`` does."""
    rng = random.Random(0)
    pieces = ["a", "b", "\x00", "é", "\U0001f600", "\ud800", "\ue000", "z", "internationaliz"]
    for _ in range(300):
        words = list(
            {"".join(rng.choices(pieces, k=rng.randint(0, 8))) for _ in range(rng.randint(0, 80))}
        )
        expected = sorted(range(len(words)), key=words.__getitem__)
        assert alphabetical_order(words).tolist() == expected
    assert alphabetical_order(["b\na", "b", "a"]).tolist() == [2, 1, 0]  # a newline in a word
