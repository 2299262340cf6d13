"""`python -m seqlab.train` as a user runs it: one run, and errors as messages without a
traceback (Hydra's own and seqlab's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli, tiny


def test_train_command_line(tmp_path: Path):
    run_dir = tmp_path / "run"
    result = run_cli([*tiny("lstm", "copy"), f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run_dir / "results.json").read_text())
    assert f"parameters={results['parameters']:,}" in result.stdout
    assert f"run dir {run_dir}" in result.stdout and "test/recall_acc" in result.stdout
    assert (run_dir / ".hydra" / "overrides.yaml").exists()


@pytest.mark.slow
def test_train_command_line_errors_are_messages(tmp_path: Path):
    composed = run_cli(["model=transformer"], cwd=tmp_path)
    assert composed.returncode == 1 and "Traceback" not in composed.stderr
    assert "Available options in 'model'" in composed.stderr
    refused = run_cli(["model=lstm", "task=translation"], cwd=tmp_path)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("seqlab: configuration error: model=lstm cannot be trained")
