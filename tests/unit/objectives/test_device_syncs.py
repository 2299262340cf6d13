"""No operator inside a training step would make a GPU host wait: the operators that read a
value back or size their output by the data (``.item()``, ``nonzero``, boolean indexing, ...)
are counted on the CPU, with the GPU's deferred-read mode forced on, for the objectives of
padded batches and language models (the per-step objective's whole loop is counted by
test_deferred_reads.py). tests/integration/test_gpu.py checks the same on a GPU with torch.cuda's
sync debug mode; this census runs wherever the tests do."""

from __future__ import annotations

import importlib
import traceback
from pathlib import Path

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from seqlab.models import recurrent
from seqlab.objectives.base import SeqlabObjective
from tests.conftest import tiny, train

# operators that synchronise a CUDA stream with the host whatever their inputs
SYNCING = {
    "aten::_local_scalar_dense",  # .item(), float(t), bool(t), int(t)
    "aten::is_nonzero",
    "aten::nonzero",
    "aten::masked_select",
    "aten::_unique2",
    "aten::unique_dim",
    "aten::unique_consecutive",
    "aten::equal",
    "aten::allclose",
}


class SyncCensus(TorchDispatchMode):
    """Counts the syncing operators dispatched while ``on``, with where they were called."""

    def __init__(self) -> None:
        super().__init__()
        self.on = False
        self.found: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        name = func._schema.name
        boolean_index = name == "aten::index" and any(
            isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in args[1]
        )
        if self.on and (name in SYNCING or boolean_index):
            frames = [f for f in traceback.extract_stack()[:-1] if "/torch/" not in f.filename]
            where = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in frames[-3:][::-1])
            self.found.append(f"{name} at {where}")
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize(
    ("model", "task", "objective", "extra"),
    [
        ("bi", "sentiment", "classification.ClassificationObjective", []),
        ("seq2seq_attention", "translation", "seq2seq.Seq2SeqObjective", []),
        ("seq2seq", "translation", "seq2seq.Seq2SeqObjective", ["training.teacher_forcing=0.5"]),
        ("gru", "lm", "language_model.LanguageModelObjective", []),
    ],
)
def test_a_training_step_dispatches_no_operator_that_synchronises_a_gpu(
    tmp_path: Path, monkeypatch, model, task, objective, extra
):
    module_name, class_name = objective.split(".")
    module = importlib.import_module(f"seqlab.objectives.{module_name}")
    objective_class = getattr(module, class_name)
    monkeypatch.setattr(SeqlabObjective, "can_defer_reads", lambda self: True)
    # lengths as on a GPU: left unread (known_unpadded reads them on the CPU only, where a read
    # costs nothing; tests/unit/models/test_rnn.py checks that it reads none elsewhere)
    monkeypatch.setattr(recurrent, "known_unpadded", lambda lengths, steps: lengths is None)
    census = SyncCensus()
    step = objective_class.training_step
    steps = {"n": 0}

    def watched(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        steps["n"] += 1
        census.on = self.global_step % self.trainer.log_every_n_steps != 0  # not a flush
        try:
            return step(self, batch, batch_idx)
        finally:
            census.on = False

    monkeypatch.setattr(objective_class, "training_step", watched)
    with census:
        train([*tiny(model, task), "trainer.log_every_n_steps=4", *extra], tmp_path / "run")
    assert steps["n"] >= 3 and not census.found, census.found
