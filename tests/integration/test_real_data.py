"""Users' real text (../shared/data holds small public corpora): BLEU scored against the raw
reference lines exactly as the sacrebleu command line scores them, tokenizers saved in
checkpoints and used by translate, text classification defaults, pretrained vectors."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seqlab.errors import ConfigError, DataFileError
from seqlab.inference.translate import translate_lines
from tests.conftest import CORPORA, TINY, clean_error, compose_config, development_corpus, train

MULTI30K, SENTIMENT = CORPORA / "multi30k", CORPORA / "sentiment_uci"


@pytest.fixture(scope="module")
def small_multi30k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 400 training pairs of Multi30k En-De; valid and test as they are."""
    development_corpus("multi30k")
    directory = tmp_path_factory.mktemp("multi30k")
    lines = (MULTI30K / "train.tsv").read_text(encoding="utf-8").splitlines()[:400]
    (directory / "train.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def tsv_run(data: Path, *overrides: str) -> list[str]:
    return [
        "model=seq2seq_attention",
        "task=tsv",
        f"task.train_path={data / 'train.tsv'}",
        f"task.valid_path={MULTI30K / 'valid.tsv'}",
        f"task.test_path={MULTI30K / 'test.tsv'}",
        "task.vocab_size=300",
        "model.hidden_size=32",
        "model.embedding_size=16",
        "model.attention_size=16",
        *TINY,
        "trainer.limit_test_batches=null",
        *overrides,
    ]


def sacrebleu_cli(references: Path, hypotheses: Path, *options: str) -> float:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sacrebleu",
            str(references),
            "-i",
            str(hypotheses),
            "-b",
            "-w",
            "4",
            *options,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


@pytest.mark.parametrize(
    ("options", "cli_options"),
    [
        ([], []),
        pytest.param(["decoding.bleu_lowercase=true"], ["-lc"], marks=pytest.mark.slow),
        pytest.param(["decoding.bleu_tokenize=intl"], ["-tok", "intl"], marks=pytest.mark.slow),
    ],
    ids=["default", "lowercase", "intl"],
)
def test_bleu_equals_the_sacrebleu_command_line_on_the_raw_references(
    small_multi30k, tmp_path, options, cli_options
):
    run_dir = tmp_path / "run"
    results = train(tsv_run(small_multi30k, *options), run_dir)
    rows = list(
        csv.reader(
            (run_dir / "test_hypotheses.tsv").open(encoding="utf-8"),
            delimiter="\t",
            quoting=csv.QUOTE_NONE,
        )
    )[1:]
    rows.sort(key=lambda r: int(r[0]))
    raw = [
        line.split("\t")
        for line in (MULTI30K / "test.tsv").read_text(encoding="utf-8").splitlines()
    ]
    assert [r[1] for r in rows] == [s for s, _ in raw] and [r[2] for r in rows] == [
        t for _, t in raw
    ]
    assert not any("<unk>" in r[2] or "▁" in r[3] for r in rows)
    (tmp_path / "refs.de").write_text("\n".join(t for _, t in raw) + "\n", encoding="utf-8")
    (tmp_path / "hyps.de").write_text("\n".join(r[3] for r in rows) + "\n", encoding="utf-8")
    expected = sacrebleu_cli(tmp_path / "refs.de", tmp_path / "hyps.de", *cli_options)
    assert results["test/bleu"] == pytest.approx(expected, abs=1e-4)
    low, high = (results["test/bleu_mean"] + d * results["test/bleu_ci95"] for d in (-1, 1))
    assert results["test/bleu_ci95"] > 0 and low <= results["test/bleu"] <= high
    signature = results["test/bleu_signature"]
    assert ("case:lc" if "-lc" in cli_options else "case:mixed") in signature
    assert ("tok:intl" if "intl" in cli_options else "tok:13a") in signature
    assert 0.0 <= results["test/truncated"] <= 1.0


@pytest.mark.slow
def test_selection_and_schedule_on_validation_bleu(small_multi30k, tmp_path):
    results = train(
        tsv_run(
            small_multi30k,
            "callbacks.monitor=val/bleu",
            "training.lr_schedule=plateau",
            "trainer.max_epochs=2",
            "trainer.limit_test_batches=1",
        ),
        tmp_path / "run",
    )
    assert results["config"]["callbacks"]["monitor"] == "val/bleu"
    state = torch.load(results["best_checkpoint"], weights_only=True)
    assert "ModelCheckpoint{'monitor': 'val/bleu', 'mode': 'max'" in " ".join(state["callbacks"])
    assert state["lr_schedulers"][0]["mode"] == "max"  # the plateau watches BLEU going up


@pytest.mark.slow
def test_outputs_cut_by_the_length_limit_are_counted(small_multi30k, tmp_path):
    results = train(
        tsv_run(small_multi30k, "decoding.max_length=1", "trainer.limit_test_batches=2"),
        tmp_path / "r",
    )
    assert results["test/truncated"] > 0.5  # an untrained model rarely ends after one token
    free = train(tsv_run(small_multi30k, "trainer.limit_test_batches=2"), tmp_path / "s")
    assert free["decoding"]["length_ratio"] > 1.0  # German runs longer than English


def test_translate_uses_the_saved_tokenizer_on_raw_text(small_multi30k, tmp_path):
    run_dir = tmp_path / "run"
    train(tsv_run(small_multi30k, "task.lowercase=true", "trainer.limit_test_batches=1"), run_dir)
    (tmp_path / "in.txt").write_text("Two young men, outside.\nA dog runs!\n", encoding="utf-8")
    lines = translate_lines(
        [f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}", f"input={tmp_path / 'in.txt'}"]
    )
    assert len(lines) == 2 and not any("▁" in line for line in lines)
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["seqlab"]
    assert (
        state["source_tokenizer"]["kind"] == "sentencepiece"
        and state["source_tokenizer"]["lowercase"]
    )


@pytest.mark.slow
def test_text_classification_defaults_suit_real_sentences(tmp_path):
    cfg = compose_config(
        ["model=bow", "task=text_tsv", "task.train_path=a", "task.valid_path=a", "task.test_path=a"]
    )
    assert cfg.model.dropout == 0.5 and cfg.model.embedding_size == 100
    assert cfg.callbacks.monitor == "val/acc" and cfg.callbacks.patience == 5
    assert cfg.task.tokenizer == "word" and cfg.task.lowercase and cfg.trainer.max_epochs == 30
    development_corpus("sentiment_uci")
    results = train(
        [
            "model=gru",
            "task=text_tsv",
            f"task.train_path={SENTIMENT / 'train.tsv'}",
            f"task.valid_path={SENTIMENT / 'valid.tsv'}",
            f"task.test_path={SENTIMENT / 'test.tsv'}",
            "trainer.max_epochs=6",
            "trainer.enable_progress_bar=false",
        ],
        tmp_path / "run",
    )
    labels = [line.rsplit("\t", 1)[1] for line in (SENTIMENT / "test.tsv").read_text().splitlines()]
    assert len(labels) == 600 and results["test/acc"] > 0.7  # chance is about 0.5
    assert results["config"]["callbacks"]["monitor"] == "val/acc"


def test_pretrained_vectors_initialise_the_embeddings(tmp_path, capsys):
    texts = tmp_path / "t.tsv"
    texts.write_text("good movie\tpos\nbad film\tneg\n")
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("2 4\ngood 1 2 3 4\nMovie 0.5 0.5 0.5 0.5\nunrelated 9 9 9 9\n")
    options = [
        "model=lstm",
        "task=text_tsv",
        f"task.train_path={texts}",
        f"task.valid_path={texts}",
        f"task.test_path={texts}",
        "model.embedding_size=4",
        f"model.pretrained_embeddings={vectors}",
        "trainer.max_epochs=1",
        "training.lr=1e-9",
        "trainer.enable_progress_bar=false",
    ]
    train(options, tmp_path / "run")
    assert "pretrained embeddings: 2 of 4 words (50.0%) found" in capsys.readouterr().out
    weights = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    vocab = weights["seqlab"]["source_vocab"]
    embedding = weights["state_dict"]["model.embedding.weight"]
    torch.testing.assert_close(
        embedding[vocab.index("good")], torch.tensor([1.0, 2, 3, 4]), atol=1e-4, rtol=0
    )
    torch.testing.assert_close(
        embedding[vocab.index("movie")], torch.full((4,), 0.5), atol=1e-4, rtol=0
    )
    wrong = [o.replace("model.embedding_size=4", "model.embedding_size=8") for o in options]
    message = clean_error(lambda: train(wrong, tmp_path / "wrong"), capsys)
    assert "holds 4-dimensional vectors; set model.embedding_size=4" in message
    missing = [o.replace(str(vectors), str(tmp_path / "none.txt")) for o in options]
    assert "no such file" in clean_error(lambda: train(missing, tmp_path / "missing"), capsys)
    vectors.write_text("good 1 2 3 4\nbad 1 2\n")
    with pytest.raises(DataFileError, match="vectors.txt:2: 2 numbers, expected 4"):
        train(options, tmp_path / "broken")


def test_progress_lines_without_a_terminal(tmp_path, capsys):
    train(
        [
            "model=gru",
            "task=tagging",
            "task.n_train=128",
            "task.n_val=32",
            "task.n_test=32",
            "task.batch_size=32",
            *TINY,
            "trainer.max_epochs=2",
            "callbacks.log_every_seconds=1e-6",
        ],
        tmp_path / "run",
    )
    out = capsys.readouterr().out
    assert "seqlab: step 1 epoch 0 train/ce" in out and "tokens/s elapsed 0:00:0" in out
    assert "seqlab: validation after epoch 0 step 3: val/acc" in out and " left " in out


def test_a_schedule_needs_what_it_is_defined_by():
    for overrides, message in [
        (["training.lr_schedule=cosine", "trainer.max_epochs=-1"], "decays over the run's budget"),
        (["training.lr_schedule=inverse_sqrt"], "needs training.warmup_steps >= 1"),
        (["training.lr_schedule=plateau", "training.warmup_steps=5"], "not plateau"),
        (["training.lr_schedule=linear"], "training.lr_schedule='linear' is unknown"),
        (["training.min_lr=1"], "training.min_lr must be >= 0 and below training.lr"),
    ]:
        from seqlab.engine.run import plan_run

        with pytest.raises(ConfigError, match=message):
            plan_run(compose_config(overrides))
