"""Sampling from a language model: temperature, top-k, top-p, greedy, seeds, and the state
carried one token at a time."""

from __future__ import annotations

import pytest
import torch

from seqlab.models.rnn import RecurrentTagger, RNNConfig
from seqlab.models.sampling import choose_next, filter_logits, sample_tokens


def test_top_k_keeps_the_k_most_likely():
    logits = torch.tensor([[1.0, 4.0, 3.0, 2.0]])
    kept = filter_logits(logits, top_k=2)
    assert torch.isfinite(kept).tolist() == [[False, True, True, False]]


def test_top_p_keeps_the_smallest_set_holding_that_much_probability():
    probs = torch.tensor([[0.1, 0.5, 0.3, 0.1]])
    kept = torch.isfinite(filter_logits(probs.log(), top_p=0.75)).tolist()
    assert kept == [[False, True, True, False]]  # 0.5 < 0.75 <= 0.5 + 0.3
    assert torch.isfinite(filter_logits(probs.log(), top_p=0.4)).sum() == 1  # the top one stays
    assert torch.isfinite(filter_logits(probs.log(), top_p=1.0)).all()


def test_temperature_zero_is_greedy_and_draws_follow_the_generator():
    logits = torch.tensor([[0.0, 2.0, 1.0]])
    assert choose_next(logits, 0.0).tolist() == [1]
    draws = [
        choose_next(logits, 1.0, generator=torch.Generator().manual_seed(s)).item()
        for s in range(200)
    ]
    again = [
        choose_next(logits, 1.0, generator=torch.Generator().manual_seed(s)).item()
        for s in range(200)
    ]
    assert draws == again and set(draws) == {0, 1, 2}
    cold = [
        choose_next(logits, 0.05, generator=torch.Generator().manual_seed(s)).item()
        for s in range(50)
    ]
    assert set(cold) == {1}  # a low temperature sharpens towards the mode


def _model() -> RecurrentTagger:
    torch.manual_seed(0)
    return RecurrentTagger(12, 12, RNNConfig(cell="gru", embedding_size=8, hidden_size=8)).eval()


def test_sampling_carries_the_state_one_token_at_a_time():
    model = _model()
    context = [3, 5, 6]
    tokens = list(sample_tokens(model, context, 15, temperature=0.0))
    # greedy: each token is the argmax of the model run over everything before it
    sequence = list(context)
    for token in tokens:
        logits, _ = model(torch.tensor([sequence]))
        assert int(logits[0, -1].argmax()) == token
        sequence.append(token)


def test_a_seed_reproduces_a_sample_and_banned_ids_never_come():
    model = _model()

    def draw(seed: int) -> list[int]:
        generator = torch.Generator().manual_seed(seed)
        return list(sample_tokens(model, [3], 60, 1.5, generator=generator, never=(0, 2)))

    first = draw(7)
    assert first == draw(7) and first != draw(8)
    assert not {0, 2} & set(first)


@pytest.mark.parametrize(("top_k", "top_p"), [(1, None), (None, 1e-6)])
def test_top_k_of_one_or_a_tiny_top_p_is_greedy(top_k, top_p):
    model = _model()
    greedy = list(sample_tokens(model, [3], 10, temperature=0.0))
    generator = torch.Generator().manual_seed(0)
    assert list(sample_tokens(model, [3], 10, 1.0, top_k, top_p, generator)) == greedy
