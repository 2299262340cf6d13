"""Greedy and beam search, and the decoding options."""

from __future__ import annotations

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.models.search import (
    DecodingConfig,
    beam_search,
    decode,
    greedy_decode,
    output_limits,
    source_length,
)
from seqlab.text.vocab import EOS_ID, PAD_ID
from tests.unit.models.test_encoder_decoder import _model, batch


@pytest.mark.parametrize(("cell", "attention"), [("gru", False), ("lstm", True)])
def test_beam_search_is_batch_consistent_and_scores_at_least_greedy(cell, attention):
    model = _model(cell, attention)
    src, lengths, _ = batch()
    beams = beam_search(model, src, lengths, beam_size=4, alpha=0.0, max_length=8)
    greedy = greedy_decode(model, src, lengths, max_length=8)
    assert torch.equal(beam_search(model, src, lengths, beam_size=1, max_length=8), greedy)

    def log_prob(tokens: torch.Tensor, row: int) -> float:
        seq = tokens[row].tolist()
        if EOS_ID in seq:
            seq = seq[: seq.index(EOS_ID) + 1]
        seq = [s for s in seq if s != PAD_ID]
        tgt_in = torch.tensor([[2, *seq[:-1]]])
        logits = model(src[row : row + 1, : lengths[row]], lengths[row : row + 1], tgt_in)
        return float(torch.log_softmax(logits.detach(), -1)[0, range(len(seq)), seq].sum())

    for row, n in enumerate(lengths.tolist()):
        alone = beam_search(model, src[row : row + 1, :n], lengths[row : row + 1], 4, 0.0, 8)
        width = alone.size(1)
        assert beams[row, :width].tolist() == alone[0].tolist()
        assert log_prob(beams, row) >= log_prob(greedy, row) - 1e-4


def test_decode_follows_the_options():
    model = _model("gru", True)
    src, lengths, _ = batch()
    greedy = decode(model, src, lengths, DecodingConfig(max_length=5), 2.0)
    assert torch.equal(greedy, greedy_decode(model, src, lengths, 5)) and greedy.size(1) <= 5
    beams = decode(model, src, lengths, DecodingConfig(beam_size=3, max_length=5), 2.0)
    assert torch.equal(beams, beam_search(model, src, lengths, 3, 0.6, 5))


def test_output_limits_come_from_the_length_ratio():
    lengths = torch.tensor([7, 3, 5])
    assert output_limits(lengths, 1.5).tolist() == [21, 15, 18]  # ceil(1.5 x) + 10
    assert output_limits(lengths, 2.0, max_length=4).tolist() == [4, 4, 4]


@pytest.mark.parametrize("beam_size", [1, 3])
def test_each_sentence_stops_at_its_own_limit(beam_size):
    """An untrained model rarely says <eos>: every output runs to its own limit."""
    model = _model("lstm", False)
    src, lengths, _ = batch()
    limits = torch.tensor([2, 9, 5])
    tokens = (
        greedy_decode(model, src, lengths, limits)
        if beam_size == 1
        else beam_search(model, src, lengths, beam_size, 0.6, limits)
    )
    produced = (tokens != PAD_ID).sum(1)
    ended = (tokens == EOS_ID).any(1)
    assert bool(((produced == limits) | ended).all()) and bool((produced <= limits).all())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"beam_size": 0}, "decoding.beam_size must be >= 1"),
        ({"bucket_width": 0}, "decoding.bucket_width must be >= 1"),
        ({"length_penalty": -1.0}, "decoding.length_penalty must be >= 0"),
        ({"length_penalty": float("inf")}, "decoding.length_penalty must be finite"),
        ({"max_length": 0}, "decoding.max_length must be >= 1 or null"),
        ({"bleu_tokenize": "moses"}, "decoding.bleu_tokenize='moses' is unknown; choose one of"),
        ({"bleu_tokenize": "flores200"}, "would download a SentencePiece model"),
        ({"bucket_unit": "tokens"}, "decoding.bucket_unit='tokens' is unknown"),
    ],
)
def test_bad_decoding_options_are_refused(options, message):
    with pytest.raises(ConfigError, match=message):
        DecodingConfig(**options)


def test_source_length_in_words_or_characters():
    assert source_length("the  dog barks", "words") == 3
    assert source_length("the  dog barks", "characters") == 11
    assert source_length("我喜欢读书。 他也是。", "words") == 2
    assert source_length("我喜欢读书。 他也是。", "characters") == 10


def test_a_mecab_tokeniser_without_mecab_is_refused_with_the_install_command():
    try:
        import MeCab  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match=r'pip install "sacrebleu\[ja\]"'):
            DecodingConfig(bleu_tokenize="ja-mecab")
    else:
        assert DecodingConfig(bleu_tokenize="ja-mecab").bleu_tokenize == "ja-mecab"


@pytest.mark.parametrize(
    ("cell", "attention"), [("gru", False), ("lstm", True), ("gru", "general")]
)
def test_beam_results_depend_neither_on_batch_size_nor_on_padding(cell, attention):
    """Users of other toolkits lost BLEU to beams that did: every batching of the same
    sentences, and extra padding columns, give the same translations and scores."""
    from seqlab.models.search import beam_search_nbest

    if attention == "general":
        from tests.unit.models.test_encoder_decoder import _luong

        model = _luong(cell, "general", feeding=False).eval()
    else:
        model = _model(cell, attention).eval()
    torch.manual_seed(1)
    src = torch.randint(4, 12, (6, 9))
    lengths = torch.tensor([9, 2, 5, 7, 1, 4])
    for row, n in enumerate(lengths.tolist()):
        src[row, n:] = PAD_ID
    whole, whole_scores = beam_search_nbest(model, src, lengths, 3, 0.6, 7)
    for size in (1, 2, 4):
        for start in range(0, 6, size):
            part = slice(start, start + size)
            width = int(lengths[part].max())
            tokens, scores = beam_search_nbest(model, src[part, :width], lengths[part], 3, 0.6, 7)
            assert torch.equal(tokens, whole[part, :, : tokens.size(-1)])
            assert not whole[part, :, tokens.size(-1) :].ne(PAD_ID).any()
            torch.testing.assert_close(scores, whole_scores[part])
    padded = torch.nn.functional.pad(src, (0, 5), value=PAD_ID)
    tokens, scores = beam_search_nbest(model, padded, lengths, 3, 0.6, 7)
    assert torch.equal(tokens, whole) and torch.allclose(scores, whole_scores)


def test_nbest_lists_are_ranked_and_begin_with_the_beam_result():
    from seqlab.models.search import beam_search_nbest

    model = _model("gru", True).eval()
    src, lengths, _ = batch()
    tokens, scores = beam_search_nbest(model, src, lengths, 4, 0.6, 8)
    assert tokens.shape[:2] == (3, 4) and scores.shape == (3, 4)
    assert torch.all(scores[:, :-1] >= scores[:, 1:])
    assert torch.equal(tokens[:, 0], beam_search(model, src, lengths, 4, 0.6, 8))
    for row in range(3):  # the hypotheses of one sentence differ from each other
        assert len({tuple(t.tolist()) for t in tokens[row]}) == 4
