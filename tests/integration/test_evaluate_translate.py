"""Evaluate and translate from a checkpoint: in-process on every option, once each through
the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seqlab.inference.evaluate import evaluate
from seqlab.inference.translate import translate_lines
from tests.conftest import clean_error, run_cli, tiny, train


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The last checkpoint of a tiny attention model trained on a tsv file."""
    import os

    data = tmp_path_factory.mktemp("data")
    pairs = ["the dog\tle chien", "a cat\tun chat", "the cat\tle chat", "a dog\tun chien"]
    (data / "pairs.tsv").write_text("\n".join(pairs * 8) + "\n")
    os.environ["SEQLAB_TEST_DATA"] = str(data)
    run_dir = tmp_path_factory.mktemp("tsv") / "run"
    train([*tiny("seq2seq_attention", "tsv"), "task.lowercase=true"], run_dir)
    return run_dir / "checkpoints" / "last.ckpt"


def test_evaluate_writes_results_and_hypotheses(checkpoint: Path, tmp_path: Path):
    results = evaluate(
        [f"ckpt_path={checkpoint}", "decoding.beam_size=2", f"out={tmp_path / 'ev'}"]
    )
    written = json.loads((tmp_path / "ev" / "results.json").read_text())
    assert written["test/bleu"] == results["test/bleu"] and written["decoding"]["beam_size"] == 2
    assert written["test/bleu_by_length"][0]["n"] == 32
    assert (tmp_path / "ev" / "test_hypotheses.tsv").read_text().startswith("index\tsource")
    assert written["test/bleu_by_length"][0]["unit"] == "words"
    validation = evaluate([f"ckpt_path={checkpoint}", "split=val", f"out={tmp_path / 'val'}"])
    assert validation["split"] == "val"


def test_evaluate_buckets_by_characters_when_asked(checkpoint: Path, tmp_path: Path):
    # "the dog", "a cat", ...: 2 words, 4 to 6 characters without the space
    options = ["decoding.bucket_unit=characters", "decoding.bucket_width=5"]
    results = evaluate([f"ckpt_path={checkpoint}", *options, f"out={tmp_path / 'ev'}"])
    buckets = results["test/bleu_by_length"]
    assert [(b["lo"], b["hi"], b["unit"]) for b in buckets] == [
        (1, 5, "characters"),
        (6, 10, "characters"),
    ]
    assert sum(b["n"] for b in buckets) == 32


def test_translate_lowercases_and_keeps_line_order(checkpoint: Path, tmp_path: Path):
    (tmp_path / "in.txt").write_text("The Dog\n\na zebra cat\n")
    lines = translate_lines([f"ckpt_path={checkpoint}", f"input={tmp_path / 'in.txt'}"])
    assert len(lines) == 3 and lines[1] == ""


def test_translate_writes_one_attention_png_per_sentence(checkpoint: Path, tmp_path: Path):
    (tmp_path / "in.txt").write_text("the dog\n\na cat\n")
    maps = tmp_path / "maps"
    greedy = translate_lines([f"ckpt_path={checkpoint}", f"input={tmp_path / 'in.txt'}"])
    lines = translate_lines(
        [f"ckpt_path={checkpoint}", f"input={tmp_path / 'in.txt'}", f"attention={maps}"]
    )
    assert lines == greedy  # the maps are of the outputs written
    assert sorted(p.name for p in maps.iterdir()) == ["1.png", "3.png"]  # line 2 is empty
    assert (maps / "1.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("action", "args", "message"),
    [
        ("evaluate", ["nonsense"], "arguments are key=value"),
        ("evaluate", ["split=test"], "ckpt_path=... is required"),
        ("evaluate", ["ckpt_path={ckpt}", "split=train"], "split must be test or val"),
        (
            "evaluate",
            ["ckpt_path={ckpt}", "decoding.beam_size=0"],
            "decoding.beam_size must be >= 1",
        ),
        (
            "evaluate",
            ["ckpt_path={ckpt}", "decoding.beem_size=2"],
            "unknown key decoding.beem_size",
        ),
        ("evaluate", ["ckpt_path={ckpt}", "out={out}"], "already holds an evaluation"),
        ("translate", ["ckpt_path={ckpt}"], "input=... is required"),
        (
            "translate",
            ["ckpt_path={ckpt}", "input=missing.txt"],
            "input file missing.txt does not exist",
        ),
        (
            "translate",
            ["ckpt_path={ckpt}", "input={out}/in.txt", "batch_size=x"],
            "batch_size must be a positive integer",
        ),
        ("translate", ["ckpt_path={out}/none.ckpt", "input=x"], "none.ckpt does not exist"),
        (
            "translate",
            ["ckpt_path={ckpt}", "input={out}/in.txt", "atention={out}/maps"],
            "unknown argument atention",
        ),
        (
            "translate",
            ["ckpt_path={ckpt}", "input={out}/in.txt", "attention={out}", "decoding.beam_size=3"],
            "drop decoding.beam_size",
        ),
        (
            "translate",
            ["ckpt_path={ckpt}", "input={out}/in.txt", "attention={out}"],
            "already holds PNG files",
        ),
    ],
)
def test_bad_arguments_stop_with_a_message(checkpoint, tmp_path, capsys, action, args, message):
    (tmp_path / "results.json").write_text("{}")
    (tmp_path / "in.txt").write_text("the dog\n")
    (tmp_path / "1.png").write_bytes(b"")
    args = [a.format(ckpt=checkpoint, out=tmp_path) for a in args]
    run = evaluate if action == "evaluate" else translate_lines
    assert message in clean_error(lambda: run(args), capsys)


def test_the_command_lines(checkpoint: Path, tmp_path: Path):
    """`python -m seqlab.evaluate` and `python -m seqlab.translate`, once each."""
    evaluated = run_cli(
        [f"ckpt_path={checkpoint}", f"out={tmp_path / 'ev'}"],
        cwd=tmp_path,
        module="seqlab.evaluate",
    )
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert "test/bleu" in evaluated.stdout and (tmp_path / "ev" / "results.json").exists()
    (tmp_path / "in.txt").write_text("the dog\na cat\n")
    translated = run_cli(
        [f"ckpt_path={checkpoint}", "input=in.txt", "output=out.txt"],
        cwd=tmp_path,
        module="seqlab.translate",
    )
    assert translated.returncode == 0, translated.stderr[-3000:]
    assert len((tmp_path / "out.txt").read_text().splitlines()) == 2


def test_translate_writes_nbest_lists_in_moses_format(checkpoint: Path, tmp_path: Path):
    (tmp_path / "in.txt").write_text("the dog\na cat\n")
    lines = translate_lines(
        [
            f"ckpt_path={checkpoint}",
            f"input={tmp_path / 'in.txt'}",
            "decoding.beam_size=3",
            "nbest=3",
        ]
    )
    assert len(lines) == 6
    fields = [line.split(" ||| ") for line in lines]
    assert [f[0] for f in fields] == ["0", "0", "0", "1", "1", "1"]
    best = translate_lines(
        [f"ckpt_path={checkpoint}", f"input={tmp_path / 'in.txt'}", "decoding.beam_size=3"]
    )
    assert [fields[0][1], fields[3][1]] == best
    for sentence in (fields[:3], fields[3:]):
        scores = [float(f[2]) for f in sentence]
        assert scores == sorted(scores, reverse=True)
