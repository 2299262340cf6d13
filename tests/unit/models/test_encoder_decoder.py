"""Encoder-decoder models (RNNencdec, RNNsearch): teacher forcing, padding, scheduled
sampling, attention, and their config."""

from __future__ import annotations

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.models.attention import AdditiveAttention
from seqlab.models.encoder_decoder import Seq2Seq, Seq2SeqConfig
from seqlab.models.sampled_decoder import sampled_fixed_context
from seqlab.models.search import greedy_decode
from seqlab.spec import SEQ2SEQ, TaskSpec
from seqlab.text.vocab import BOS_ID, PAD_ID

VARIANTS = [(cell, attention) for cell in ("rnn", "lstm", "gru") for attention in (False, True)]


def _model(cell: str, attention: bool | str, **kw) -> Seq2Seq:
    """A tiny Seq2Seq; the encoder is bidirectional with attention unless ``kw`` says."""
    torch.manual_seed(0)
    kw.setdefault("bidirectional", bool(attention))
    config = Seq2SeqConfig(
        cell=cell, embedding_size=8, hidden_size=10, attention=attention, attention_size=6, **kw
    )
    return Seq2Seq(12, 15, config)


def batch():
    """src (3, 7) with lengths 7, 3, 5 (padded), tgt_in (3, 6) starting with <bos>."""
    src = torch.randint(4, 12, (3, 7))
    lengths = torch.tensor([7, 3, 5])
    for row, n in enumerate(lengths.tolist()):
        src[row, n:] = PAD_ID
    tgt_in = torch.randint(4, 15, (3, 6))
    tgt_in[:, 0] = BOS_ID
    return src, lengths, tgt_in


def _step_loop(model: Seq2Seq, src, lengths, tgt_in) -> torch.Tensor:
    memory, state = model.encode(src, lengths)
    steps = []
    for token in tgt_in.unbind(1):
        step_logits, state, _ = model.step(token, state, memory)
        steps.append(step_logits)
    return torch.stack(steps, 1)


def assert_same_logits_and_gradients(
    model, fast, reference, logits_tol: tuple[float, float], grads_tol: tuple[float, float]
) -> torch.Tensor:
    """Run ``fast()`` and ``reference()`` (each returning logits), backpropagate the same loss
    through each, and assert equal logits and gradients within (rtol, atol); return the fast
    logits."""
    results = []
    for run in (fast, reference):
        model.zero_grad()
        logits = run()
        logits.square().sum().backward()
        results.append((logits.detach(), [p.grad.clone() for p in model.parameters()]))
    (got, got_grads), (expected, expected_grads) = results
    torch.testing.assert_close(got, expected, rtol=logits_tol[0], atol=logits_tol[1])
    for grad, expected_grad in zip(got_grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, expected_grad, rtol=grads_tol[0], atol=grads_tol[1])
    return got


@pytest.mark.parametrize(("cell", "attention"), VARIANTS)
def test_teacher_forcing_shapes_and_ratio_one_equals_fused_path(cell, attention):
    model = _model(cell, attention, layers=2)
    src, lengths, tgt_in = batch()
    logits = model(src, lengths, tgt_in)
    assert logits.shape == (3, 6, 15)
    sampled = model.forward_sampled(src, lengths, tgt_in, ratio=1.0)
    torch.testing.assert_close(sampled, logits, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("cell", "attention"), VARIANTS)
def test_padding_in_the_source_changes_nothing(cell, attention):
    model = _model(cell, attention)
    src, lengths, tgt_in = batch()
    batched = model(src, lengths, tgt_in)
    for row, n in enumerate(lengths.tolist()):
        alone = model(src[row : row + 1, :n], lengths[row : row + 1], tgt_in[row : row + 1])
        torch.testing.assert_close(batched[row], alone[0], rtol=1e-5, atol=1e-5)


def test_ratio_zero_feeds_the_models_own_predictions():
    model = _model("gru", False)
    src, lengths, tgt_in = batch()
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
    config = Seq2SeqConfig(cell=cell, embedding_size=8, hidden_size=10, layers=layers, impl=impl)
    model = Seq2Seq(12, target_vocab, config)
    src, lengths, tgt_in = batch()  # 3 x 6 = 18 target positions: 40 words > 18 -> per step
    use_truth = torch.rand(tgt_in.shape) < 0.5
    use_truth[:, 0] = True
    never_fed = torch.tensor([PAD_ID, BOS_ID])

    def decoded(decode):  # type: ignore[no-untyped-def]
        memory, state = model.encode(src, lengths)
        return lambda: decode(model, memory, state, tgt_in, use_truth, never_fed)

    fast = assert_same_logits_and_gradients(
        model,
        lambda: decoded(sampled_fixed_context)(),
        lambda: decoded(Seq2Seq.sampled_step_by_step)(),
        logits_tol=(1e-5, 1e-5),
        grads_tol=(1e-4, 1e-5),
    )
    # the model's own predictions were fed somewhere, so this compares the sampled path
    assert not torch.allclose(fast, model(src, lengths, tgt_in))


def test_forward_sampled_keeps_the_step_loop_with_dropout_in_training(monkeypatch):
    model = _model("lstm", False, dropout=0.3)
    src, lengths, tgt_in = batch()
    called = []
    monkeypatch.setattr(
        "seqlab.models.encoder_decoder.sampled_fixed_context", lambda *a: called.append(1)
    )
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


def test_the_config_builds_the_model_and_refuses_bad_values():
    model = Seq2SeqConfig(attention=True, hidden_size=6, embedding_size=4, attention_size=3).build(
        TaskSpec("t", SEQ2SEQ, vocab_size=9, num_classes=11)
    )
    assert isinstance(model, Seq2Seq) and model.attention is not None
    assert model.output.out_features == 11 and Seq2SeqConfig.outputs == (SEQ2SEQ,)
    with pytest.raises(ConfigError, match="a decoder cannot be bidirectional"):
        Seq2SeqConfig(decoder_bidirectional=True)
    with pytest.raises(ConfigError, match="model.attention_size must be > 0"):
        Seq2SeqConfig(attention_size=0)


@pytest.mark.parametrize(
    ("cell", "layers", "impl"),
    [
        *(
            (cell, layers, impl)
            for cell in ("rnn", "lstm", "gru")
            for layers in (1, 2)
            for impl in ("fused", "explicit")
        ),
        ("lstm", 3, "fused"),
    ],
)
def test_the_attention_decoder_equals_the_step_loop(cell, layers, impl):
    """Teacher-forced RNNsearch: the recurrence with its hand-written backward
    (seqlab/models/attention_decoder.py) gives the step loop's logits and gradients (float64,
    so rounding cannot hide a wrong equation)."""
    model = _model(cell, True, layers=layers, impl=impl).double()
    src, lengths, tgt_in = batch()
    assert_same_logits_and_gradients(
        model,
        lambda: model(src, lengths, tgt_in),
        lambda: _step_loop(model, src, lengths, tgt_in),
        logits_tol=(1e-10, 1e-12),
        grads_tol=(1e-9, 1e-11),
    )


def test_the_attention_decoder_keeps_the_step_loop_for_dropout_between_layers(monkeypatch):
    called = []
    monkeypatch.setattr(
        "seqlab.models.encoder_decoder.attention_teacher_forced", lambda *a: called.append(1)
    )
    src, lengths, tgt_in = batch()
    model = _model("gru", True, layers=2, dropout=0.3).train()
    assert model(src, lengths, tgt_in).shape == (3, 6, 15) and not called


def _luong(cell: str, kind: str, feeding: bool, layers: int = 1) -> Seq2Seq:
    """Luong attention: dot needs a unidirectional encoder (its outputs the decoder's size)."""
    return _model(cell, kind, layers=layers, input_feeding=feeding, bidirectional=kind == "general")


@pytest.mark.parametrize(
    ("cell", "layers", "kind", "feeding"),
    [
        ("lstm", 1, "dot", False),
        ("gru", 2, "dot", False),
        ("lstm", 2, "general", False),
        ("gru", 1, "general", False),
        ("lstm", 1, "general", True),
        ("gru", 2, "dot", True),
    ],
)
def test_luong_attention_teacher_forced_equals_its_step_by_step_definition(
    cell, layers, kind, feeding
):
    """Luong et al. (2015): without input feeding the teacher-forced pass is one fused
    decoder call and one batched attention; it equals decoding one step at a time (float64,
    logits and gradients). With input feeding both are the step loop."""
    model = _luong(cell, kind, feeding, layers).double()
    src, lengths, tgt_in = batch()
    assert_same_logits_and_gradients(
        model,
        lambda: model(src, lengths, tgt_in),
        lambda: _step_loop(model, src, lengths, tgt_in),
        logits_tol=(1e-10, 1e-12),
        grads_tol=(1e-9, 1e-11),
    )


@pytest.mark.parametrize("feeding", [False, True])
def test_luong_models_decode_greedy_and_beam_with_their_attention(feeding):
    from seqlab.models.search import beam_search, greedy_alignments

    model = _luong("lstm", "general", feeding).eval()
    src, lengths, _ = batch()
    tokens, weights = greedy_alignments(model, src, lengths, max_length=5)
    assert tokens.shape[0] == 3 and weights.shape[:2] == tokens.shape
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:2]))
    assert beam_search(model, src, lengths, 3, max_length=5).shape[0] == 3


def test_attention_options_are_checked():
    assert Seq2SeqConfig(attention=True).attention == "additive"  # configs of older versions
    assert Seq2SeqConfig(attention="False").attention == "none"
    with pytest.raises(
        ConfigError, match="model.attention='concat' is unknown; choose one of none, additive, dot"
    ):
        Seq2SeqConfig(attention="concat")
    with pytest.raises(ConfigError, match="input_feeding=false applies to Luong attention"):
        Seq2SeqConfig(attention="additive", input_feeding=False)
    with pytest.raises(ConfigError, match="model.attention=dot scores"):
        Seq2SeqConfig(attention="dot", bidirectional=True)
    model = Seq2SeqConfig(attention="general", bidirectional=True, input_feeding=False)
    assert model.has_attention and not Seq2SeqConfig().has_attention
