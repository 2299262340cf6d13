"""Encoder-decoder models, attention, schedules, decoding and BLEU."""

from __future__ import annotations

import math

import pytest
import torch

from seqlab.bleu import bleu_by_length, corpus_bleu, length_bucket
from seqlab.config import ConfigError, ScheduledSamplingConfig, TrainingConfig
from seqlab.models.attention import AdditiveAttention
from seqlab.models.sampled_decoder import sampled_fixed_context
from seqlab.models.search import beam_search, greedy_decode
from seqlab.models.seq2seq import Seq2Seq
from seqlab.objectives.schedules import teacher_forcing_ratio
from seqlab.tasks.vocab import BOS_ID, EOS_ID, PAD_ID

VARIANTS = [(cell, attention) for cell in ("rnn", "lstm", "gru") for attention in (False, True)]


def _model(cell: str, attention: bool, **kw) -> Seq2Seq:
    torch.manual_seed(0)
    return Seq2Seq(
        12,
        15,
        cell=cell,
        embedding_size=8,
        hidden_size=10,
        attention=attention,
        bidirectional=attention,
        attention_size=6,
        **kw,
    )


def _batch():
    src = torch.randint(4, 12, (3, 7))
    lengths = torch.tensor([7, 3, 5])
    for row, n in enumerate(lengths.tolist()):
        src[row, n:] = PAD_ID
    tgt_in = torch.randint(4, 15, (3, 6))
    tgt_in[:, 0] = BOS_ID
    return src, lengths, tgt_in


@pytest.mark.parametrize(("cell", "attention"), VARIANTS)
def test_teacher_forcing_shapes_and_ratio_one_equals_fused_path(cell, attention):
    model = _model(cell, attention, layers=2)
    src, lengths, tgt_in = _batch()
    logits = model(src, lengths, tgt_in)
    assert logits.shape == (3, 6, 15)
    sampled = model.forward_sampled(src, lengths, tgt_in, ratio=1.0)
    torch.testing.assert_close(sampled, logits, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("cell", "attention"), VARIANTS)
def test_padding_in_the_source_changes_nothing(cell, attention):
    model = _model(cell, attention)
    src, lengths, tgt_in = _batch()
    batched = model(src, lengths, tgt_in)
    for row, n in enumerate(lengths.tolist()):
        alone = model(src[row : row + 1, :n], lengths[row : row + 1], tgt_in[row : row + 1])
        torch.testing.assert_close(batched[row], alone[0], rtol=1e-5, atol=1e-5)


def test_ratio_zero_feeds_the_models_own_predictions():
    model = _model("gru", False)
    src, lengths, tgt_in = _batch()
    free = model.forward_sampled(src, lengths, tgt_in, ratio=0.0)
    greedy = greedy_decode(model, src, lengths, max_length=6)
    masked = free.detach().clone()
    masked[..., [PAD_ID, BOS_ID]] = float("-inf")
    assert torch.equal(masked.argmax(-1)[:, 0], greedy[:, 0])
    own = torch.cat([tgt_in[:, :1], masked.argmax(-1)[:, :-1]], 1)
    torch.testing.assert_close(model(src, lengths, own), free)


@pytest.mark.parametrize("target_vocab", [15, 40])  # token-gate table / per-step projection
@pytest.mark.parametrize("impl", ["fused", "explicit"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_hoisted_scheduled_sampling_equals_the_step_by_step_definition(
    cell, layers, impl, target_vocab
):
    torch.manual_seed(0)
    model = Seq2Seq(
        12, target_vocab, cell=cell, embedding_size=8, hidden_size=10, layers=layers, impl=impl
    )
    src, lengths, tgt_in = _batch()  # 3 x 6 = 18 target positions: 40 words > 18 -> per step
    use_truth = torch.rand(tgt_in.shape) < 0.5
    use_truth[:, 0] = True
    never_fed = torch.tensor([PAD_ID, BOS_ID])
    results = []
    for decode in (sampled_fixed_context, Seq2Seq.sampled_step_by_step):
        model.zero_grad()
        memory, state = model.encode(src, lengths)
        args = (memory, state, tgt_in, use_truth, never_fed)
        logits = decode(model, *args)
        logits.square().sum().backward()
        results.append((logits.detach(), [p.grad.clone() for p in model.parameters()]))
    (fast, fast_grads), (reference, reference_grads) = results
    torch.testing.assert_close(fast, reference, rtol=1e-5, atol=1e-5)
    for got, expected in zip(fast_grads, reference_grads, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    # the model's own predictions were fed somewhere, so this compares the sampled path
    assert not torch.allclose(fast, model(src, lengths, tgt_in))


def test_forward_sampled_keeps_the_step_loop_with_dropout_in_training(monkeypatch):
    model = _model("lstm", False, dropout=0.3)
    src, lengths, tgt_in = _batch()
    called = []
    monkeypatch.setattr("seqlab.models.seq2seq.sampled_fixed_context", lambda *a: called.append(1))
    model.train()
    assert model.forward_sampled(src, lengths, tgt_in, 0.5).shape == (3, 6, 15)
    assert not called
    model.eval()
    model.forward_sampled(src, lengths, tgt_in, 0.5)
    assert called


def test_attention_weights_sum_to_one_and_skip_padding():
    attention = AdditiveAttention(4, 6, 5)
    keys = torch.randn(2, 5, 6)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    context, weights = attention(torch.randn(2, 4), attention.project_keys(keys), keys, mask)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2))
    assert bool((weights[0, 3:] == 0).all()) and context.shape == (2, 6)


@pytest.mark.parametrize(("cell", "attention"), [("gru", False), ("lstm", True)])
def test_beam_search_is_batch_consistent_and_scores_at_least_greedy(cell, attention):
    model = _model(cell, attention)
    src, lengths, _ = _batch()
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


def test_schedules_follow_bengio_et_al():
    linear = ScheduledSamplingConfig("linear", k=1.0, c=0.01, min_ratio=0.2)
    assert teacher_forcing_ratio(0, 1.0, linear) == 1.0
    assert teacher_forcing_ratio(50, 1.0, linear) == pytest.approx(0.5)
    assert teacher_forcing_ratio(500, 1.0, linear) == 0.2
    exponential = ScheduledSamplingConfig("exponential", k=0.99)
    assert teacher_forcing_ratio(100, 1.0, exponential) == pytest.approx(0.99**100)
    inverse = ScheduledSamplingConfig("inverse_sigmoid", k=10.0)
    assert teacher_forcing_ratio(30, 1.0, inverse) == pytest.approx(10 / (10 + math.exp(3)))
    assert teacher_forcing_ratio(10**6, 1.0, inverse) == 0.0
    assert teacher_forcing_ratio(7, 0.75, ScheduledSamplingConfig()) == 0.75


def test_bad_schedules_are_refused():
    with pytest.raises(ConfigError, match="schedule='cosine' is unknown"):
        ScheduledSamplingConfig("cosine")
    with pytest.raises(ConfigError, match="0 < training.scheduled_sampling.k < 1"):
        ScheduledSamplingConfig("exponential", k=1.5)
    with pytest.raises(ConfigError, match=r"must be in \[0, 1\]"):
        TrainingConfig(teacher_forcing=-0.1)


def test_bleu_perfect_copy_scores_100_in_every_bucket_and_counts_add_up():
    refs = [" ".join(f"w{j}" for j in range(n)) for n in range(1, 41)]
    score, signature = corpus_bleu(refs, refs)
    assert score == pytest.approx(100.0) and "tok:13a" in signature
    buckets = bleu_by_length(refs, refs, list(range(1, 41)), width=10)
    assert [(b["lo"], b["hi"]) for b in buckets] == [(1, 10), (11, 20), (21, 30), (31, 40)]
    assert sum(b["n"] for b in buckets) == 40
    assert all(b["bleu"] == pytest.approx(100.0) for b in buckets[1:])
    assert length_bucket(10, 10) == (1, 10) and length_bucket(11, 10) == (11, 20)


def test_bleu_is_corpus_bleu_per_bucket_not_a_mean():
    hyps = ["a b c d e", "x y z w v"]
    refs = ["a b c d e", "a b c d e"]
    bucket = bleu_by_length(hyps, refs, [5, 5])[0]
    assert bucket["bleu"] == pytest.approx(corpus_bleu(hyps, refs)[0], abs=1e-3)
    assert bucket["exact_match"] == 0.5
