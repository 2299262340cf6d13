"""The fault-injection suite: files a user is handed (checkpoints, run dirs, results, caches,
data), crafted or damaged, and machines that fail (a full disk, Ctrl-C, a second process).

Every case runs a real entry point (in-process, as ``python -m seqlab.<command>`` does) and
asserts what a user sees and what is left: the message, the exit status, no traceback, no
code run from a file (a sentinel the payloads would create is never created) and earlier
outputs unchanged byte for byte.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from seqlab.engine.run_dir import release_run_dir
from seqlab.reporting.results import LOCK_FILE, held_run_dirs
from tests.conftest import PAIRS, TINY, train

PAYLOAD_MODULE = "evil_payload"
PAYLOAD_SOURCE = '''"""Imported only if seqlab runs code a file names: it leaves the sentinel."""
import os
import pathlib

pathlib.Path(os.environ["SEQLAB_SENTINEL"]).write_text("code ran")


class Anything:
    def __init__(self, *args, **kwargs):
        pathlib.Path(os.environ["SEQLAB_SENTINEL"]).write_text("code ran")
'''


class PicklePayload:
    """Unpickled, it runs ``exec`` of code that leaves the sentinel."""

    def __init__(self, sentinel: Path) -> None:
        self.sentinel = sentinel

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (exec, (f"open({str(self.sentinel)!r}, 'w').write('code ran')",))


def _read(path: Path) -> bytes:
    with open(path, "rb") as handle:  # not Path.read_bytes, which a case may replace
        return handle.read()


@dataclass
class Outcome:
    code: int
    out: str
    err: str


@dataclass
class Fault:
    """One case's surroundings: ``root`` (the working directory), ``sentinel`` (must never
    appear) and a snapshot of the files present before the case."""

    root: Path
    sentinel: Path
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch
    before: dict[str, bytes] | None = None

    def snapshot(self) -> dict[str, bytes]:
        """Every file under root (the run dirs' ownership record aside)."""
        return {
            str(p.relative_to(self.root)): _read(p)
            for p in sorted(self.root.rglob("*"))
            if p.is_file() and p.name != LOCK_FILE and p != self.sentinel
        }

    def remember(self) -> None:
        self.before = self.snapshot()

    def invoke(self, command: str, argv: list[str]) -> Outcome:
        """``python -m seqlab.<command> <argv>``, in-process: its exit status and output."""
        import importlib

        self.capsys.readouterr()
        module = importlib.import_module(f"seqlab.cli.{command}")
        self.monkeypatch.setattr(sys, "argv", [f"seqlab.{command}", *argv])
        try:
            code = module.main() if command == "train" else module.main(argv)
            code = 0 if code is None else code
        except SystemExit as stopped:
            code = stopped.code if isinstance(stopped.code, int) else 1
        captured = self.capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    def refused(
        self,
        command: str,
        argv: list[str],
        message: str,
        code: int = 1,
        new_files_ok: bool = False,
    ) -> Outcome:
        """Run a case that must stop: exit ``code``, ``message`` on stderr, no traceback, no
        code run, every earlier file as it was, and (unless ``new_files_ok``: a run that
        started and stopped leaves its record) no new file."""
        if self.before is None:
            self.remember()
        outcome = self.invoke(command, argv)
        assert outcome.code == code, (outcome.code, outcome.err[-2000:])
        assert message in outcome.err, outcome.err[-2000:]
        assert "Traceback" not in outcome.err + outcome.out, outcome.err[-3000:]
        assert not self.sentinel.exists(), "a file made seqlab run code"
        after = self.snapshot()
        assert {k: after.get(k) for k in self.before} == self.before, "earlier outputs changed"
        if not new_files_ok:
            assert sorted(after) == sorted(self.before), "files were written"
        return outcome


@pytest.fixture
def fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Fault]:
    """A working directory with the payload module importable from it (as the directory of
    ``python -m`` is), and the sentinel it would write."""
    root = tmp_path / "work"
    root.mkdir()
    sentinel = tmp_path / "SENTINEL"
    (root / f"{PAYLOAD_MODULE}.py").write_text(PAYLOAD_SOURCE)
    monkeypatch.setenv("SEQLAB_SENTINEL", str(sentinel))
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.chdir(root)
    yield Fault(root, sentinel, capsys, monkeypatch)
    sys.modules.pop(PAYLOAD_MODULE, None)
    for run_dir in list(held_run_dirs):  # what main() claimed for its process's life
        release_run_dir(run_dir)
    assert not sentinel.exists(), "a file made seqlab run code"


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished tiny run of seq2seq_attention on tsv files (its own copy of the data):
    checkpoints, config.yaml, results.json. Tests copy it (:func:`finished_run`)."""
    base = tmp_path_factory.mktemp("trained")
    data = base / "data"
    data.mkdir()
    for name in ("train", "valid", "test"):
        (data / f"{name}.tsv").write_text("\n".join(PAIRS * 8) + "\n")
    cache = os.environ.get("SEQLAB_CACHE_DIR")
    os.environ["SEQLAB_CACHE_DIR"] = str(base / "cache")
    try:
        train(
            [
                "model=seq2seq_attention",
                "task=tsv",
                f"task.train_path={data / 'train.tsv'}",
                f"task.valid_path={data / 'valid.tsv'}",
                f"task.test_path={data / 'test.tsv'}",
                "model.hidden_size=16",
                "model.embedding_size=8",
                "model.attention_size=8",
                "callbacks.resume_every_n_steps=1",
                *TINY,
            ],
            base / "run",
        )
    finally:
        if cache is None:
            os.environ.pop("SEQLAB_CACHE_DIR", None)
        else:
            os.environ["SEQLAB_CACHE_DIR"] = cache
    release_run_dir(base / "run")
    return base


@pytest.fixture
def finished_run(trained: Path, fault: Fault) -> Path:
    """A copy of the trained run (and its data) under the case's working directory."""
    shutil.copytree(trained / "data", fault.root / "data")
    run_dir = fault.root / "run"
    shutil.copytree(trained / "run", run_dir)
    return run_dir


def best_checkpoint(run_dir: Path) -> Path:
    return next((run_dir / "checkpoints").glob("best-*.ckpt"))


def rewrite_checkpoint(path: Path, change: Callable[[dict], None]) -> None:
    """Load a checkpoint, change it, save it back (as a crafted file would be)."""
    raw = torch.load(path, map_location="cpu", weights_only=True)
    change(raw)
    torch.save(raw, path)


def pickle_payload(sentinel: Path) -> bytes:
    return pickle.dumps(PicklePayload(sentinel))
