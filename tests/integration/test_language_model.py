"""task=lm end to end: training with every regulariser, the three levels, samples in
TensorBoard, evaluate, exact resume mid-stream, and python -m seqlab.generate (in-process on
every option, once through the command line)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from seqlab.engine.run import resume_run
from seqlab.inference.evaluate import evaluate
from seqlab.inference.generate import generate
from tests.conftest import PROSE, clean_error, run_cli, tiny, train
from tests.integration.test_resume import LANGUAGE_MODEL, RUN, assert_same_run


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny character-level LSTM language model trained on the test text."""
    import os

    data = tmp_path_factory.mktemp("text")
    (data / "text.txt").write_text("\n".join(PROSE * 7) + "\n")
    os.environ["SEQLAB_TEST_DATA"] = str(data)
    run_dir = tmp_path_factory.mktemp("lm") / "run"
    overrides = ["trainer.limit_train_batches=6", "trainer.limit_val_batches=1.0"]
    train([*tiny("lstm", "lm"), *overrides, "trainer.limit_test_batches=1.0"], run_dir)
    return run_dir


def test_training_logs_a_sample_to_tensorboard_at_each_validation(lm_run: Path):
    results = json.loads((lm_run / "results.json").read_text())
    assert results["test/ppl"] < results["test/unigram_ppl"] * 2  # a model, not noise
    accumulator = EventAccumulator(str(lm_run / "tensorboard"), size_guidance={"tensors": 0})
    accumulator.Reload()
    samples = accumulator.Tensors("samples/text_summary")
    assert [event.step for event in samples] == [6]  # one validation, after step 6
    assert len(samples[0].tensor_proto.string_val[0].decode()) > 50


def test_generate_prints_the_prompt_then_a_reproducible_sample(lm_run: Path):
    ckpt = f"ckpt_path={lm_run / 'checkpoints' / 'last.ckpt'}"
    pieces: list[str] = []
    first = generate([ckpt, "prompt=the cat", "max_tokens=40", "seed=3"], pieces.append)
    assert first.startswith("the cat") and len(first) == len("the cat") + 40
    assert pieces[0] == "the cat" and len(pieces) == 1 + 40 + 1  # streamed token by token
    again = generate([ckpt, "prompt=the cat", "max_tokens=40", "seed=3"], lambda _: None)
    assert again == first
    other = generate([ckpt, "prompt=the cat", "max_tokens=40", "seed=4"], lambda _: None)
    assert other != first
    greedy = [
        generate([ckpt, "prompt=a", "max_tokens=20", "temperature=0", f"seed={s}"], lambda _: None)
        for s in (1, 2)
    ]
    assert greedy[0] == greedy[1]
    narrow = generate([ckpt, "max_tokens=30", "top_k=3", "top_p=0.9", "seed=0"], lambda _: None)
    assert len(narrow) == 30


def test_a_prompt_with_unseen_characters_reads_them_as_unknown(lm_run: Path, capsys):
    ckpt = f"ckpt_path={lm_run / 'checkpoints' / 'last.ckpt'}"
    text = generate([ckpt, "prompt=zqx\\nthe", "max_tokens=5", "seed=0"], lambda _: None)
    assert text.startswith("zqx\nthe") and "<unk>" not in text
    assert "read as <unk>: 'z' 'q' 'x'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["max_tokens=0"], "max_tokens must be an integer >= 1; got 0"),
        (["temperature=-1"], "temperature must be a number >= 0 (0: greedy); got -1"),
        (["top_k=0"], "top_k must be an integer >= 1"),
        (["top_p=1.5"], "top_p must be in (0, 1]"),
        (["seed=-3"], "seed must be an integer >= 0"),
        (["beam=4"], "unknown argument beam"),
        (["prompt"], "arguments are key=value"),
    ],
)
def test_bad_generation_arguments_stop_with_a_message(lm_run, capsys, args, message):
    ckpt = f"ckpt_path={lm_run / 'checkpoints' / 'last.ckpt'}"
    assert message in clean_error(lambda: generate([ckpt, *args]), capsys)


def test_generate_refuses_what_is_not_a_language_model(tmp_path: Path, capsys):
    run_dir = tmp_path / "copy"
    train(tiny("lstm", "copy"), run_dir)
    error = clean_error(
        lambda: generate([f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}"]), capsys
    )
    assert "is a model=lstm task=copy checkpoint, not a language model" in error
    missing = clean_error(lambda: generate([f"ckpt_path={tmp_path / 'none.ckpt'}"]), capsys)
    assert "none.ckpt does not exist" in missing
    assert "ckpt_path=... is required" in clean_error(lambda: generate([]), capsys)


def test_evaluate_scores_a_language_model_as_training_did(lm_run: Path, tmp_path: Path):
    results = json.loads((lm_run / "results.json").read_text())
    best = results["best_checkpoint"]
    scored = evaluate([f"ckpt_path={best}", f"out={tmp_path / 'ev'}"])
    for metric in ("test/ce", "test/ppl", "test/bpc", "test/acc"):
        assert scored[metric] == pytest.approx(results[metric], rel=1e-6), metric


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(
            ["task.level=word", "model=gru", "task.eval_streams=3"], marks=pytest.mark.slow
        ),
        pytest.param(
            ["task.level=sentencepiece", "task.vocab_size=40", "model=vanilla"],
            marks=pytest.mark.slow,
        ),
        [
            "model.embedding_size=16",
            "model.hidden_size=16",
            "model.layers=2",
            "model.tie_embeddings=true",
            "model.locked_dropout=true",
            "model.dropout=0.2",
            "model.input_dropout=0.3",
            "model.output_dropout=0.1",
            "model.embedding_dropout=0.1",
            "model.weight_drop=0.3",
            "task.stateful=false",
            "training.tbptt_random_length=true",
        ],
    ],
    ids=["word", "sentencepiece", "regularised"],
)
def test_levels_and_regularisers_train_end_to_end(tmp_path: Path, options: list[str]):
    results = train([*tiny("lstm", "lm"), *options], tmp_path / "run")
    assert results["status"] == "completed" and results["test/ppl"] > 1
    assert ("test/bpc" in results) == ("task.level=word" not in options)


def test_a_run_resumed_mid_stream_ends_as_the_uninterrupted_one(tmp_path: Path):
    """Stopped at step 8 of a 16-window epoch: the resumed run continues each stream from
    its saved state and position."""
    options = [*LANGUAGE_MODEL, *RUN, "callbacks.resume_every_n_steps=3"]
    reference = train([*options, "trainer.max_steps=20"], tmp_path / "reference")
    run_dir = tmp_path / "extended"
    train([*options, "trainer.max_steps=8"], run_dir)
    time.sleep(1.0)
    saved = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert saved["global_step"] == 8
    assert saved["seqlab_state"]["carried_state"][0].shape == (1, 8, 16)  # (layers, streams, H)
    resumed = resume_run(run_dir, ["trainer.max_steps=20"])
    assert resumed["resumed_from"].endswith("last.ckpt (step 8)")
    assert_same_run(resumed, reference, run_dir, tmp_path / "reference")


def test_the_generate_command_line(lm_run: Path, tmp_path: Path):
    result = run_cli(
        [f"ckpt_path={lm_run / 'checkpoints' / 'last.ckpt'}", "prompt=the", "max_tokens=10"],
        cwd=tmp_path,
        module="seqlab.generate",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("the") and len(result.stdout) == len("the") + 10 + 1
