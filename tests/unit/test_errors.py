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


def test_other_errors_pass_through():
    with pytest.raises(KeyError), error_boundary("prog"):
        raise KeyError("a bug")
