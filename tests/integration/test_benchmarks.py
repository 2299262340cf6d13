"""scripts/benchmark.py's ratio report: median, range, best-of-N, and the noise warning."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "benchmark.py"


def _benchmark():
    sys.path.insert(0, str(ROOT / "scripts"))  # the benchmarks package, as the script sees it
    spec = importlib.util.spec_from_file_location("seqlab_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _section(name: str):
    _benchmark()
    return importlib.import_module(f"benchmarks.{name}")


def test_ratio_spread_reports_range_best_of_n_and_warns_when_noise_exceeds_effect(capsys):
    ratio_spread = _section("common").ratio_spread
    steady = ratio_spread([1.0, 1.0, 1.0], [1.5, 1.52, 1.48], "steady")
    assert steady["median"] == pytest.approx(1.5) and not steady["noisy"]
    assert steady["best_of_n"] == pytest.approx(1.48)
    assert capsys.readouterr().out == ""
    noisy = ratio_spread([1.0, 1.0, 1.0], [0.9, 1.05, 1.3], "noisy")
    assert noisy["noisy"] and noisy["min"] == pytest.approx(0.9)
    assert "spread (0.900-1.300) is larger than the effect" in capsys.readouterr().out


def test_gpu_section_says_it_is_skipped_without_a_gpu(capsys, monkeypatch):
    import argparse

    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert _section("gpu").bench_gpu(argparse.Namespace(steps=1, repeats=1)) == {}
    assert "skipped: PyTorch sees no CUDA GPU" in capsys.readouterr().out


def test_every_section_is_listed_in_the_docstring():
    benchmark = _benchmark()
    for section in benchmark.SECTIONS:
        assert f"\n  {section} " in benchmark.__doc__, section


def test_every_section_is_a_module_of_the_package():
    benchmark = _benchmark()
    for section in benchmark.SECTIONS:
        assert callable(getattr(_section(section), f"bench_{section}")), section


def test_attention_flop_count_sees_inside_the_hand_written_decoder():
    """The attention section's FLOP ratio counts the multiplies of the autograd function's
    forward and backward: the function and its definition (the step loop) do the same work
    but for W_c c_i (per target step) against W_c h_j (per source position)."""
    attention = _section("attention")
    batches, source_vocab, target_vocab = _section("seq2seq").translation_batches(2, 4, 6)
    vocab = (source_vocab, target_vocab)
    model = attention.bahdanau_model(vocab, "additive")
    as_run = attention.step_gflops(model, batches)
    definition = attention.step_gflops(model, batches, step_loop=True)
    fixed = attention.step_gflops(attention.bahdanau_model(vocab, "none"), batches)
    assert as_run == pytest.approx(definition, rel=0.05)
    assert fixed < 0.7 * as_run  # the second encoder direction and the wider context


def test_seqlab_side_trains_in_the_trainer_seqlab_train_builds(monkeypatch):
    """The benchmarks' seqlab side is the run's own Trainer, callbacks and loggers, so its
    per-step cost is what a user's run pays (validation aside)."""
    from seqlab.engine import callbacks, trainer

    common = _section("common")
    built = {"callbacks": 0, "trainer": 0}
    for module, key in ((callbacks, "callbacks"), (trainer, "trainer")):
        name = f"build_{key}"
        original = getattr(module, name)

        def counted(*args, _original=original, _key=key, **kwargs):
            built[_key] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    seconds = common.seqlab_path(
        common.make_model("gru", "fused", 8, 8), common.copy_data(64, 1), 16, 6
    )
    assert seconds > 0 and built == {"callbacks": 1, "trainer": 1}
