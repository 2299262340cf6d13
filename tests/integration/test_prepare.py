"""python -m seqlab.prepare encodes a task's files into the cache once; the train command with
the same task options then reads them instead of tokenizing."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqlab.cli.prepare import main as prepare
from tests.conftest import TINY_TASK, run_cli, tiny, train


def test_prepare_fills_the_cache_that_training_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    task = TINY_TASK["tsv"]
    assert prepare(["task=tsv", *task]) == 0
    out = capsys.readouterr().out
    assert "train 32, val 32, test 32 pairs encoded" in out and "reads them from the cache" in out
    assert prepare(["task=tsv", *task]) == 0
    assert "already prepared" in capsys.readouterr().out
    train(tiny("seq2seq", "tsv"), tmp_path / "run")
    assert "encoded data read from the cache" in capsys.readouterr().out


def test_a_task_without_files_has_nothing_to_prepare(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        prepare(["task=copy"])
    err = capsys.readouterr().err
    assert stop.value.code == 1 and "Traceback" not in err
    assert "task=copy has nothing to prepare" in err


def test_the_prepare_command_line(tmp_path: Path) -> None:
    result = run_cli(["task=tsv", *TINY_TASK["tsv"]], tmp_path, module="seqlab.prepare")
    assert result.returncode == 0, result.stderr
    assert "pairs encoded" in result.stdout
