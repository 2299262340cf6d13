"""The sequence-classification dataset: a batch of encoded texts, padded, with lengths, labels
and focus flags, equal to padding each text on its own."""

from __future__ import annotations

import random

import torch

from seqlab.data.labelled_text import EncodedTexts, TextExample
from seqlab.text.vocab import PAD_ID, Vocab


def _reference(examples: list[TextExample], vocab: Vocab, index: list[int]) -> dict:
    """The batch built one text at a time (the definition)."""
    longest = max(len(examples[i].words) for i in index)
    inputs = torch.full((len(index), longest), PAD_ID, dtype=torch.long)
    for row, i in enumerate(index):
        ids = vocab.encode(examples[i].words)
        inputs[row, : len(ids)] = torch.tensor(ids)
    return {
        "inputs": inputs,
        "lengths": torch.tensor([len(examples[i].words) for i in index]),
        "labels": torch.tensor([examples[i].label for i in index]),
        "focus": torch.tensor([examples[i].focus for i in index]),
    }


def test_a_batch_equals_each_text_padded_on_its_own():
    rng = random.Random(0)
    words = [f"w{i}" for i in range(50)]
    vocab = Vocab(words[:40])  # the last ten words are unknown
    examples = [
        TextExample([rng.choice(words) for _ in range(rng.randint(1, 12))], rng.randint(0, 4))
        for _ in range(200)
    ]
    for i in range(0, 200, 7):
        examples[i].focus = True
    dataset = EncodedTexts(examples, vocab)
    assert list(dataset.lengths) == [len(e.words) for e in examples]
    for index in ([0], [199], [5, 5, 3], rng.sample(range(200), 64), list(range(200))):
        batch, expected = dataset[index], _reference(examples, vocab, index)
        assert batch.keys() == expected.keys()
        for name, tensor in expected.items():
            assert batch[name].dtype == tensor.dtype, name
            assert torch.equal(batch[name], tensor), name
