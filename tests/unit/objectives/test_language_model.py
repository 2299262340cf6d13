"""The language-model objective: state carried across windows (values cross a window
boundary, gradients do not) or reset, and evaluation over a whole split against a hand
computation of cross-entropy, perplexity and bits per character."""

from __future__ import annotations

import math

import lightning as L
import pytest
import torch
import torch.nn.functional as F

from seqlab.config.training import TrainingConfig
from seqlab.data.streams import evaluation_stream_loader
from seqlab.models.rnn import RecurrentTagger, RNNConfig
from seqlab.objectives.language_model import LanguageModelObjective
from seqlab.spec import NEXT_TOKEN, TaskSpec

VOCAB = 10


def _objective(stateful: bool, cell: str = "lstm", **spec) -> LanguageModelObjective:
    torch.manual_seed(0)
    model = RecurrentTagger(VOCAB, VOCAB, RNNConfig(cell=cell, embedding_size=6, hidden_size=8))
    task = TaskSpec("lm", NEXT_TOKEN, VOCAB, VOCAB, stateful=stateful, **spec)
    objective = LanguageModelObjective(model, TrainingConfig(tbptt_steps=4), task)
    losses: list[torch.Tensor] = []
    objective.optimize = lambda loss: losses.append(loss) or float(loss.detach())  # type: ignore[method-assign]
    objective.log_training_loss = lambda loss, extra=None: None  # type: ignore[method-assign]
    objective.losses = losses  # type: ignore[attr-defined]
    return objective


def _windows() -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Two consecutive windows of 2 streams; the first reads tokens 4-5, the second 6-9."""
    first = torch.tensor([[4, 5, 4, 5], [5, 4, 5, 4]])
    second = torch.tensor([[6, 7, 8, 9], [9, 8, 7, 6]])
    return {"inputs": first, "targets": first}, {"inputs": second, "targets": second}


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_the_state_is_carried_into_the_next_window_but_not_its_gradient(cell: str):
    objective = _objective(stateful=True, cell=cell)
    objective.model.eval()  # no dropout: the values can be compared
    first, second = _windows()
    objective.training_step(first, 0)
    carried = objective.carried
    parts = carried if isinstance(carried, tuple) else (carried,)
    assert all(p.grad_fn is None and not p.requires_grad for p in parts)  # detached
    objective.training_step(second, 1)
    # the values cross the boundary: window 2 reads on from window 1's state
    whole, _ = objective.model(torch.cat([first["inputs"], second["inputs"]], 1))
    loss = F.cross_entropy(whole[:, 4:].flatten(0, 1), second["targets"].flatten())
    assert float(objective.losses[1].detach()) == pytest.approx(float(loss.detach()), abs=1e-6)
    # ... the gradients do not: window 2's loss reaches no embedding row window 1 alone read
    objective.model.zero_grad()
    objective.losses[1].backward()
    rows = objective.model.embedding.weight.grad
    assert torch.count_nonzero(rows[[4, 5]]) == 0 and torch.count_nonzero(rows[[6, 7, 8, 9]]) > 0


def test_a_stateless_task_resets_the_state_at_every_window():
    objective = _objective(stateful=False)
    objective.model.eval()
    first, second = _windows()
    objective.training_step(first, 0)
    assert objective.carried is None
    objective.training_step(second, 1)
    alone, _ = objective.model(second["inputs"])
    loss = F.cross_entropy(alone.flatten(0, 1), second["targets"].flatten())
    assert float(objective.losses[1].detach()) == pytest.approx(float(loss.detach()), abs=1e-6)


@pytest.mark.parametrize(("streams", "window"), [(1, 3), (1, 50), (3, 4)])
def test_evaluation_matches_a_hand_computation_over_the_whole_split(streams: int, window: int):
    ids = torch.tensor([3] + [4, 5, 6, 7, 8, 9, 3, 9, 8, 7, 3, 4, 4, 4, 5, 3] * 2)
    per_token = 40 / (ids.numel() - 1)  # as if the split's text had 40 characters
    objective = _objective(
        stateful=True, split_baseline_ce={"test": 2.0}, characters_per_token={"test": per_token}
    )
    objective.model.eval()
    loader = evaluation_stream_loader(ids, streams, window)
    trainer = L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    metrics = trainer.test(objective, dataloaders=loader, verbose=False)[0]
    # by hand: each stream in one call from a blank state, log-softmax in float64
    from seqlab.data.streams import IGNORE, stream_layout

    inputs, targets = stream_layout(ids, streams)
    with torch.no_grad():
        logits, _ = objective.model(inputs)
    log_probs = logits.double().log_softmax(-1)
    nll, count = 0.0, 0
    for b in range(streams):
        for t in range(inputs.size(1)):
            if targets[b, t] != IGNORE:
                nll -= float(log_probs[b, t, targets[b, t]])
                count += 1
    assert count == ids.numel() - 1  # every token of the split, once
    assert metrics["test/ce"] == pytest.approx(nll / count, rel=1e-5)
    assert metrics["test/ppl"] == pytest.approx(math.exp(nll / count), rel=1e-5)
    assert metrics["test/bpc"] == pytest.approx(nll / (40 * math.log(2)), rel=1e-5)
    assert metrics["test/unigram_ce"] == pytest.approx(2.0)
    assert metrics["test/unigram_bpc"] == pytest.approx(2.0 * count / (40 * math.log(2)))
    correct = sum(
        int(logits[b, t].argmax() == targets[b, t])
        for b in range(streams)
        for t in range(inputs.size(1))
        if targets[b, t] != IGNORE
    )
    assert metrics["test/acc"] == pytest.approx(correct / count)


def test_word_level_reports_perplexity_without_bits_per_character():
    assert "val/bpc" not in LanguageModelObjective.validation_metrics(
        TaskSpec("lm", NEXT_TOKEN, 10, 10)
    )
    names = LanguageModelObjective.validation_metrics(
        TaskSpec("lm", NEXT_TOKEN, 10, 10, characters_per_token={"val": 1.0})
    )
    assert {"val/ppl", "val/bpc", "val/unigram_bpc"} <= set(names)
