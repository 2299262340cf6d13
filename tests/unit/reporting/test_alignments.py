"""Attention alignments: greedy decoding with weights, their cut to real words, and the
heat-maps in TensorBoard during training."""

from __future__ import annotations

import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from seqlab.models.encoder_decoder import Seq2Seq, Seq2SeqConfig
from seqlab.models.search import greedy_alignments, greedy_decode
from seqlab.reporting.alignments import alignment_figure, alignments
from seqlab.text.vocab import EOS_ID, Vocab
from tests.conftest import tiny, train


def _model() -> Seq2Seq:
    torch.manual_seed(0)
    config = Seq2SeqConfig(
        name="seq2seq_attention",
        attention=True,
        hidden_size=8,
        embedding_size=4,
        attention_size=4,
    )
    return Seq2Seq(12, 12, config).eval()


def test_greedy_alignments_decode_as_greedy_and_weights_are_distributions():
    model = _model()
    src = torch.randint(4, 12, (3, 7))
    lengths = torch.tensor([7, 4, 2])
    src[1, 4:] = 0
    src[2, 2:] = 0
    tokens, weights = greedy_alignments(model, src, lengths, 9)
    assert torch.equal(tokens, greedy_decode(model, src, lengths, 9))
    assert weights.shape == (3, tokens.size(1), 7)
    assert torch.allclose(weights.sum(-1), torch.ones(3, tokens.size(1)), atol=1e-5)
    assert float(weights[1, :, 4:].abs().max()) == 0.0  # padding gets no attention


def test_alignments_are_cut_to_real_source_words_and_the_output_up_to_eos():
    vocab = Vocab([f"w{i}" for i in range(8)])
    tokens = torch.tensor([[5, 6, EOS_ID, 0], [7, 7, 7, 7]])
    weights = torch.rand(2, 4, 3).softmax(-1)
    src = torch.tensor([[4, 5, 6], [4, 5, 0]])
    found = alignments(tokens, weights, src, torch.tensor([3, 2]), vocab, vocab)
    assert found[0].source == ["w0", "w1", "w2"] and found[0].output == ["w1", "w2", "<eos>"]
    assert len(found[1].source) == 2 and len(found[1].output) == 4
    assert len(found[1].weights) == 4 and len(found[1].weights[0]) == 2
    figure = alignment_figure(found[0], "t")
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == found[0].source


def test_attention_maps_of_fixed_validation_sentences_reach_tensorboard(tmp_path):
    train([*tiny("seq2seq_attention", "translation"), "diagnostics.attention_maps=2"], tmp_path)
    images = EventAccumulator(str(tmp_path / "tensorboard")).Reload().Tags()["images"]
    assert {"attention/val_0", "attention/val_1"} <= set(images)
    assert not any(tag.startswith("attention/val_2") for tag in images)
