"""Expected failures end as a message naming the file or key and the fix, never a
traceback: damaged files, bad values, a machine that runs out of disk or memory, Ctrl-C."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import torch

import seqlab.engine.checkpoint_io as checkpoint_io
from tests.conftest import TINY, TINY_TASK
from tests.integration.faults.conftest import Fault, best_checkpoint, rewrite_checkpoint

COPY = ["model=lstm", "task=copy", "model.hidden_size=16", *TINY, *TINY_TASK["copy"]]


def text_tsv(fault: Fault, lines: list[str]) -> list[str]:
    """Overrides for a tiny text_tsv run whose training file holds ``lines``."""
    good = fault.root / "good.tsv"
    good.write_text("good movie\tpositive\nbad movie\tnegative\n" * 4)
    train = fault.root / "train.tsv"
    train.write_bytes("\n".join(lines).encode() + b"\n" if lines else b"")
    return [
        "model=lstm",
        "task=text_tsv",
        f"task.train_path={train}",
        f"task.valid_path={good}",
        f"task.test_path={good}",
        "hydra.run.dir=run",
        *TINY,
    ]


# ----- a run dir's files, damaged -----------------------------------------------------------


def test_resuming_from_a_truncated_checkpoint_names_it(fault: Fault, finished_run: Path):
    last = finished_run / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    fault.refused(
        "train",
        [f"resume={finished_run}", "trainer.max_epochs=2"],
        "last.ckpt is damaged and cannot be resumed from",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("model: [unclosed\n", "its config.yaml cannot be used"),
        ("- just\n- a list\n", "its config.yaml cannot be used"),
        ("seed: 0\n", "has no model and task groups"),
    ],
)
def test_resuming_with_a_damaged_config_yaml_is_a_message(
    fault: Fault, finished_run: Path, content: str, message: str
):
    (finished_run / "config.yaml").write_text(content)
    fault.refused("train", [f"resume={finished_run}", "trainer.max_epochs=2"], message)


def test_resuming_with_a_damaged_results_json_is_a_message(fault: Fault, finished_run: Path):
    (finished_run / "results.json").write_text('{"status": "compl')
    fault.refused(
        "train", [f"resume={finished_run}", "trainer.max_epochs=2"], "results.json is damaged"
    )


# ----- checkpoints, damaged -----------------------------------------------------------------


def _empty_config(raw: dict) -> None:
    raw["seqlab"]["config"] = {}


def _mismatched_weights(raw: dict) -> None:
    key = next(k for k in raw["state_dict"] if k.endswith("weight"))
    raw["state_dict"][key] = torch.zeros(3, 3)


def _damaged_vocab(raw: dict) -> None:
    raw["seqlab"]["source_vocab"] = 5


def _config_as_text(raw: dict) -> None:
    raw["seqlab"]["config"] = "model: lstm"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_empty_config, "has no model and task groups"),
        (_config_as_text, "its saved config is not usable"),
        (_mismatched_weights, "its weights do not fit the model its config describes"),
        (_damaged_vocab, "its vocabularies or tokenizers are damaged"),
    ],
)
@pytest.mark.parametrize("command", ["evaluate", "translate"])
def test_a_damaged_checkpoint_is_a_message(
    fault: Fault, finished_run: Path, change, message: str, command: str
):
    checkpoint = best_checkpoint(finished_run)
    rewrite_checkpoint(checkpoint, change)
    (fault.root / "in.txt").write_text("the dog\n")
    args = [f"ckpt_path={checkpoint}"] + (["input=in.txt"] if command == "translate" else [])
    fault.refused(command, args, message)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("not a checkpoint"), "is not a seqlab checkpoint"),
        (lambda p: p.write_bytes(p.read_bytes()[:2000]), "is not a seqlab checkpoint"),
        (lambda p: p.unlink(), "does not exist"),
        (lambda p: torch.save({"weights": torch.ones(2)}, p), "has no seqlab metadata"),
    ],
    ids=["text", "truncated", "missing", "foreign"],
)
def test_a_file_that_is_not_a_checkpoint_is_a_message(
    fault: Fault, finished_run: Path, make, message: str
):
    checkpoint = best_checkpoint(finished_run)
    make(checkpoint)
    fault.refused("evaluate", [f"ckpt_path={checkpoint}"], message)


# ----- users' data ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["good movie\tpositive", "fine film\t"], "train.tsv:2: the label is empty"),
        (["good movie\t0", "bad movie\t100000000"], "train.tsv:2: label 100000000 would make"),
        (["good movie\tpositive", "x" * 1_200_000 + "\tnegative"], "characters long"),
        ([], "train.tsv holds no examples"),
        (
            [f"{i % 2}\treview number {i}" for i in range(30)],
            "the label column holds text. seqlab takes the label from the last column; for a "
            "file with the label first, set task.label_column=first",
        ),
    ],
    ids=[
        "empty_label",
        "huge_index",
        "huge_line",
        "empty_file",
        "label_first",
    ],
)
def test_a_malformed_data_file_is_a_message_naming_file_and_line(
    fault: Fault, lines: list[str], message: str
):
    fault.refused("train", text_tsv(fault, lines), message, new_files_ok=True)
    assert not (fault.root / "run" / "config.yaml").exists()


def test_an_unreadable_data_file_is_a_message(fault: Fault):
    overrides = text_tsv(fault, ["good movie\tpositive"])
    real = Path.read_bytes

    def denied(path: Path) -> bytes:
        if path.name == "train.tsv":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    fault.remember()
    fault.monkeypatch.setattr(Path, "read_bytes", denied)
    fault.refused(
        "train", overrides, "train.tsv cannot be read (Permission denied)", new_files_ok=True
    )


def test_nan_in_pretrained_embeddings_is_a_message_naming_the_line(fault: Fault):
    vectors = fault.root / "vectors.txt"
    vectors.write_text("good 0.1 0.2 0.3 0.4\nmovie nan 0.2 0.3 0.4\n")
    overrides = text_tsv(fault, ["good movie\tpositive", "bad movie\tnegative"])
    fault.refused(
        "train",
        [*overrides, f"model.pretrained_embeddings={vectors}", "model.embedding_size=4"],
        "vectors.txt:2: the vector of 'movie' holds NaN or infinite numbers",
        new_files_ok=True,
    )


# ----- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("seed=-1", "seed must be an integer from 0 to 4294967295; got -1"),
        ("task.data_seed=1099511627776", "task.data_seed must be an integer from 0"),
        ("training.max_loss=0", "training.max_loss must be > 0"),
        ("decoding.bleu_tokenize=flores200", "would download a SentencePiece model"),
        ("decoding.bucket_unit=tokens", "decoding.bucket_unit='tokens' is unknown"),
    ],
)
def test_a_value_out_of_range_is_refused_before_anything_is_written(
    fault: Fault, override: str, message: str
):
    fault.refused("train", [*COPY, override, "hydra.run.dir=run"], message)
    assert not (fault.root / "run").exists()


def test_an_unknown_label_column_is_refused(fault: Fault):
    overrides = text_tsv(fault, ["good movie\tpositive"])
    fault.refused(
        "train",
        [*overrides, "task.label_column=middle"],
        "task.label_column='middle' is unknown; choose one of last, first",
        new_files_ok=True,
    )


def _tsv(fault: Fault, override: str) -> list[str]:
    """Overrides for a tiny tsv run whose pairs have 2 tokens a side, and ``override``."""
    pairs = fault.root / "pairs.tsv"
    pairs.write_text("a b\tA B\nb c\tB C\n" * 4)
    paths = [f"task.{split}_path={pairs}" for split in ("train", "valid", "test")]
    return ["model=seq2seq", "task=tsv", "task.tokenizer=whitespace", *paths, override, *TINY]


@pytest.mark.parametrize(
    ("override", "message", "started"),
    [
        ("task.max_len=0", "task.max_len must be >= 1 or null, got 0", False),
        ("task.max_len=1", "task.max_len=1 leaves no training pair", True),
    ],
)
def test_a_max_len_that_leaves_no_training_pair_is_a_message(
    fault: Fault, override: str, message: str, started: bool
):
    fault.refused(
        "train", [*_tsv(fault, override), "hydra.run.dir=run"], message, new_files_ok=started
    )


# ----- the inference commands' own arguments -------------------------------------------------


def test_evaluate_out_naming_a_file_is_a_message(fault: Fault, finished_run: Path):
    (fault.root / "taken.txt").write_text("mine")
    fault.refused(
        "evaluate",
        [f"ckpt_path={best_checkpoint(finished_run)}", "out=taken.txt"],
        "out=taken.txt is a file",
    )


def test_evaluate_split_must_be_val_or_test(fault: Fault, finished_run: Path):
    fault.refused(
        "evaluate",
        [f"ckpt_path={best_checkpoint(finished_run)}", "split=train"],
        "split must be test or val",
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["output=missing/out.txt"], "the folder missing does not exist"),
        (["output=."], "output=. is a directory"),
        (["input=nothing.txt"], "input file nothing.txt does not exist"),
        (["input=latin1.txt"], "latin1.txt:1: not valid UTF-8"),
        (["batch_size=0"], "batch_size must be a positive integer"),
        (["nbest=3"], "nbest=3 needs at least that many hypotheses: set decoding.beam_size=3"),
        (["nbest=0", "decoding.beam_size=2"], "nbest must be a positive integer"),
    ],
)
def test_translate_arguments_are_checked_before_decoding(
    fault: Fault, finished_run: Path, extra: list[str], message: str
):
    (fault.root / "in.txt").write_text("the dog\n")
    (fault.root / "latin1.txt").write_bytes("le chien é\n".encode("latin-1"))
    args = [f"ckpt_path={best_checkpoint(finished_run)}", "input=in.txt", *extra]
    fault.refused("translate", args, message)


@pytest.mark.parametrize("command", ["summarize", "plot"])
def test_a_damaged_results_json_is_a_message_for_the_reports(
    fault: Fault, finished_run: Path, command: str
):
    (finished_run / "results.json").write_text("{not json")
    fault.refused(command, [str(fault.root)], "results.json is damaged")


def test_summarize_of_a_missing_directory_is_a_message(fault: Fault):
    fault.refused("summarize", ["nowhere"], "nowhere does not exist")


def test_prepare_of_a_task_without_files_is_a_message(fault: Fault):
    fault.refused("prepare", ["task=copy"], "task=copy has nothing to prepare")


# ----- the machine ---------------------------------------------------------------------------


def _failing_save(error: BaseException):
    real = torch.save

    def save(obj, target, *args, **kwargs):  # type: ignore[no-untyped-def]
        if hasattr(target, "write") and str(getattr(target, "name", "")).endswith(".partial"):
            target.write(b"half a checkpoint")
            raise error
        return real(obj, target, *args, **kwargs)

    return save


def test_a_full_disk_during_a_checkpoint_save_is_a_message_and_leaves_no_partial_file(
    fault: Fault,
):
    no_space = OSError(errno.ENOSPC, "No space left on device")
    fault.monkeypatch.setattr(checkpoint_io.torch, "save", _failing_save(no_space))
    outcome = fault.refused(
        "train", [*COPY, "hydra.run.dir=run"], "the disk is full", new_files_ok=True
    )
    assert "resume=" in outcome.err
    assert not list(fault.root.rglob("*.partial"))


def test_ctrl_c_during_a_checkpoint_save_leaves_no_partial_file(fault: Fault):
    fault.monkeypatch.setattr(checkpoint_io.torch, "save", _failing_save(KeyboardInterrupt()))
    fault.refused("train", [*COPY, "hydra.run.dir=run"], "", new_files_ok=True)
    assert not list(fault.root.rglob("*.partial"))


def test_running_out_of_memory_is_a_message(fault: Fault):
    import seqlab.tasks.copy as copy_task

    def exhausted(seed: int):  # type: ignore[no-untyped-def]
        raise MemoryError

    fault.monkeypatch.setattr(copy_task, "split_generators", exhausted)
    fault.refused("train", [*COPY, "hydra.run.dir=run"], "out of memory", new_files_ok=True)


def test_a_loss_that_grows_without_bound_is_divergence(fault: Fault):
    outcome = fault.refused(
        "train",
        [*COPY, "training.lr=1e30", "hydra.run.dir=run"],
        "past training.max_loss",
        new_files_ok=True,
    )
    assert "training stopped" in outcome.err
    results = (fault.root / "run" / "results.json").read_text()
    assert '"status": "diverged"' in results
