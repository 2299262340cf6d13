"""The GPU suite: trainer=gpu end to end for every model family, and trainer.precision=16-mixed
(float16 autocast with a loss scaler) and bf16-mixed on the GPU, including nn.LSTM under
float16 autocast (cuDNN's fused RNN kernel, a known autocast pitfall). Skipped where PyTorch
sees no GPU (CI); on a GPU machine run `python -m pytest tests/integration/test_gpu.py`
(about 20 s).
Results are recorded in experiments/benchmarks/README.md."""

from __future__ import annotations

import csv
import math

import pytest
import torch
from torch import nn

from tests.conftest import tiny, train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

GPU_PAIRS = [
    ("lstm", "copy", []),
    ("vanilla", "copy", []),
    ("gru", "copy", ["model.impl=explicit"]),
    ("bi", "sentiment", []),
    ("lstm", "tagging", []),
    ("bow", "sentiment", []),
    ("lstm", "text_tsv", []),
    ("seq2seq", "translation", ["training.teacher_forcing=0.5"]),
    ("seq2seq_attention", "translation", ["training.teacher_forcing=0.5"]),
    ("seq2seq_attention", "translation", []),  # the attention recurrence (hand-written backward)
    ("seq2seq_attention", "tsv", ["task.tokenizer=word"]),
    ("lstm", "copy", ["training.tbptt_steps=5"]),
]


def losses(run_dir) -> list[float]:
    with (run_dir / "metrics.csv").open() as handle:
        return [float(r["train/ce"]) for r in csv.DictReader(handle) if r.get("train/ce")]


def record_devices(monkeypatch) -> list[torch.device]:
    """Record the device of every nn.Linear input during the run."""
    seen: list[torch.device] = []
    real_forward = nn.Linear.forward

    def recording_forward(self, x):
        seen.append(x.device)
        return real_forward(self, x)

    monkeypatch.setattr(nn.Linear, "forward", recording_forward)
    return seen


@pytest.mark.parametrize(("model", "task", "extra"), GPU_PAIRS)
def test_trainer_gpu_end_to_end(model, task, extra, tmp_path, monkeypatch):
    seen = record_devices(monkeypatch)
    results = train([*tiny(model, task), "trainer=gpu", *extra], tmp_path)
    assert seen and all(d.type == "cuda" for d in seen)
    assert math.isfinite(results["test/ce"])
    assert all(math.isfinite(v) for v in losses(tmp_path))


@pytest.mark.parametrize("precision", ["16-mixed", "bf16-mixed"])
@pytest.mark.parametrize(
    ("model", "task", "extra"),
    [
        ("lstm", "copy", []),  # nn.LSTM: cuDNN's fused kernel under autocast
        ("gru", "copy", ["model.impl=explicit"]),  # seqlab's gate-level cells
        ("seq2seq", "translation", ["training.teacher_forcing=0.5"]),  # sampled decoder
        ("seq2seq_attention", "translation", ["training.teacher_forcing=0.5"]),  # step loop
        ("bi", "sentiment", ["training.clip_norm=0.5"]),  # clipping of scaled gradients
    ],
)
def test_mixed_precision_on_gpu(model, task, extra, precision, tmp_path, monkeypatch):
    dtypes: list[torch.dtype] = []
    real_forward = nn.Linear.forward

    def recording_forward(self, x):
        out = real_forward(self, x)
        dtypes.append(out.dtype)
        return out

    monkeypatch.setattr(nn.Linear, "forward", recording_forward)
    results = train(
        [*tiny(model, task), "trainer=gpu", f"trainer.precision={precision}", *extra], tmp_path
    )
    expected = torch.float16 if precision == "16-mixed" else torch.bfloat16
    assert expected in dtypes  # the step ran under autocast
    assert math.isfinite(results["test/ce"])
    assert all(math.isfinite(v) for v in losses(tmp_path))


@pytest.mark.parametrize("precision", ["32-true", "16-mixed"])
def test_fused_lstm_learns_under_16_mixed(precision, tmp_path):
    """nn.LSTM (cuDNN) trained under float16 autocast with the loss scaler learns the copy task
    as float32 does: the last losses fall well below the first (seed 0, 600 updates)."""
    overrides = [
        *tiny("lstm", "copy"),
        "trainer=gpu",
        f"trainer.precision={precision}",
        "trainer.max_epochs=30",
        "trainer.limit_train_batches=null",
        "task.n_train=2560",
        "task.batch_size=128",
        "model.hidden_size=64",
    ]
    results = train(overrides, tmp_path)
    curve = losses(tmp_path)
    first, last = sum(curve[:5]) / 5, sum(curve[-5:]) / 5
    assert last < 0.5 * first, (first, last)
    assert results["test/recall_acc"] > 0.5, results


@pytest.mark.parametrize(
    ("model", "task", "objective"),
    [
        ("lstm", "copy", "seqlab.objectives.per_step.PerStepObjective"),
        ("bi", "sentiment", "seqlab.objectives.classification.ClassificationObjective"),
        ("seq2seq_attention", "translation", "seqlab.objectives.seq2seq.Seq2SeqObjective"),
        ("seq2seq", "translation", "seqlab.objectives.seq2seq.Seq2SeqObjective"),
    ],
)
def test_a_training_step_on_the_gpu_does_not_synchronise(
    model, task, objective, tmp_path, monkeypatch
):
    """torch.cuda's sync debug mode warns at every host-device synchronisation: inside the
    training steps of trainer=gpu there are none, but for the batched read of the step
    scalars every trainer.log_every_n_steps steps; padded batches included (their lengths
    stay unread on the device)."""
    import importlib
    import warnings

    module_name, class_name = objective.rsplit(".", 1)
    objective_class = getattr(importlib.import_module(module_name), class_name)
    step = objective_class.training_step
    counts = {"steps": 0, "syncs": 0}

    def watched(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        counts["steps"] += 1
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                return step(self, batch, batch_idx)
        finally:
            torch.cuda.set_sync_debug_mode("default")
            counts["syncs"] += sum("synchroniz" in str(w.message) for w in caught)

    monkeypatch.setattr(objective_class, "training_step", watched)
    overrides = [*tiny(model, task), "trainer=gpu", "trainer.log_every_n_steps=3"]
    if model == "seq2seq":  # scheduled sampling: the model's own tokens fed back
        overrides.append("training.teacher_forcing=0.5")
    train([*overrides, "trainer.limit_train_batches=3", "trainer.max_epochs=3"], tmp_path)
    assert counts["steps"] == 9 and counts["syncs"] <= 2 * (9 // 3), counts


def test_batches_gathered_on_the_gpu_equal_those_on_the_host():
    from seqlab.data.batching import TensorDictDataset

    generator = torch.Generator().manual_seed(0)
    tensors = {
        "inputs": torch.randint(0, 9, (50, 7), generator=generator),
        "targets": torch.randint(0, 9, (50, 7), generator=generator),
    }
    host = TensorDictDataset(dict(tensors))
    device = TensorDictDataset(dict(tensors)).to(torch.device("cuda"))
    for index in ([3, 1, 4, 1, 5], list(range(50)), [49]):
        on_device = device[index]
        assert all(v.device.type == "cuda" for v in on_device.values())
        assert all(torch.equal(on_device[k].cpu(), host[index][k]) for k in tensors)
