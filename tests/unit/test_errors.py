"""The error boundary: a seqlab error is one line on stderr and exit status 1; anything else
keeps its traceback (it is a bug)."""

from __future__ import annotations

import pytest

from seqlab.errors import (
    CheckpointError,
    ConfigError,
    DataFileError,
    NonFiniteLossError,
    error_boundary,
)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ConfigError("bad value"), "configuration error"),
        (DataFileError("a.tsv:3: no tab"), "data error"),
        (CheckpointError("x.ckpt does not exist"), "checkpoint error"),
        (NonFiniteLossError("the loss became nan"), "training stopped"),
    ],
)
def test_seqlab_errors_end_as_one_message(capsys, error, kind):
    with pytest.raises(SystemExit) as stopped, error_boundary("prog", usage="usage: prog x=1"):
        raise error
    assert stopped.value.code == 1
    assert capsys.readouterr().err == f"prog: {kind}: {error}\nusage: prog x=1\n"


def test_a_bug_keeps_its_traceback_and_says_how_to_report_it(capsys):
    with pytest.raises(SystemExit) as stopped, error_boundary("prog"):
        raise KeyError("a bug")
    err = capsys.readouterr().err
    assert stopped.value.code == 1
    assert "Traceback" in err and "KeyError: 'a bug'" in err
    assert err.rstrip().endswith("the traceback above") and "bug in seqlab" in err


@pytest.mark.parametrize(
    ("error", "message", "code"),
    [
        (
            PermissionError(13, "Permission denied", "/data/a.tsv"),
            "permission denied (/data/a.tsv)",
            1,
        ),
        (OSError(28, "No space left on device", "ckpt"), "the disk is full (ckpt); free some", 1),
        (MemoryError(), "out of memory", 1),
        (KeyboardInterrupt(), "interrupted (Ctrl-C)", 130),
    ],
)
def test_machine_failures_end_as_one_message(capsys, error, message, code):
    with pytest.raises(SystemExit) as stopped, error_boundary("prog"):
        raise error
    err = capsys.readouterr().err
    assert stopped.value.code == code and message in err and "Traceback" not in err
