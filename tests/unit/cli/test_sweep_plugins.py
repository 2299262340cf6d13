"""A sweeper or launcher whose Hydra plugin is not installed (a plain ``pip install seqlab``
leaves out the ``sweeps`` extra) stops with the install command, before Hydra composes."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from seqlab.cli import train


def no_plugins(parent_missing: bool):
    """find_spec as it answers without the sweeps extra: with no Hydra plugin installed at
    all, asking for hydra_plugins.<name> raises (its parent package is missing)."""
    real = importlib.util.find_spec

    def find_spec(name: str, *args):
        if name.startswith("hydra_plugins."):
            if parent_missing:
                raise ModuleNotFoundError("No module named 'hydra_plugins'")
            return None
        return real(name, *args)

    return find_spec


@pytest.mark.parametrize("parent_missing", [True, False])
@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "hydra/sweeper=optuna", "model=gru"],
        ["experiment=tune_copy"],
        ["experiment=bahdanau"],  # its four jobs run two at a time (joblib)
        ["-m", "hydra/launcher=joblib", "seed=1,2"],
        ["-m", "hydra/launcher=slurm"],
    ],
)
def test_a_missing_plugin_is_named_with_the_install_command(
    argv: list[str],
    parent_missing: bool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", no_plugins(parent_missing))
    monkeypatch.setattr(sys, "argv", ["seqlab.train", *argv])
    with pytest.raises(SystemExit) as stop:
        train.main()
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert 'pip install "seqlab[sweeps]"' in err and "needs a Hydra plugin" in err
    assert "Traceback" not in err


def test_installed_plugins_and_plain_runs_pass_the_check() -> None:
    assert train.check_sweep_plugins(["experiment=tune_copy", "hydra/launcher=joblib"]) is None
    assert train.check_sweep_plugins(["model=lstm", "task=copy", "experiment=bahdanau"]) is None
    assert train.check_sweep_plugins(["model=lstm", "task=copy"]) is None
