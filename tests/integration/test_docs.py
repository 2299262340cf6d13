"""Every ``python -m seqlab.<command>`` shown in README.md and docs/ is run here at tiny scale,
so the docs cannot drift from the code.

- Every training command is composed and validated (a sweep's first job: the first value of
  every swept key): what ``python -m seqlab.train`` checks before it trains. In the slow suite
  every single run on the CPU also trains, in-process with a tiny budget appended
  (tests/conftest.py TINY). The experiments themselves run at tiny scale in
  tests/integration/test_experiments.py and the launchers in tests/integration/test_launchers.py
  (both in the slow suite).
- evaluate, translate, prepare, plot, summarize and generate run in-process on a tiny run
  (``$RUN``, a seq2seq model with attention on a tsv task), a tiny language model (``$LM``)
  and a tiny sweep (``$SWEEP``, copy runs at two delays with gradient flow); ``data/*.tsv``,
  ``data/*.txt`` and input files are tiny files.
"""

from __future__ import annotations

import glob
import re
import shlex
from pathlib import Path

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser

from seqlab.cli import evaluate, generate, plot, prepare, summarize, translate
from seqlab.engine.run import plan_run
from tests.conftest import (
    MODEL_SIZE,
    PAIRS,
    PROSE,
    ROOT,
    TINY,
    TINY_MODEL,
    TINY_TASK,
    compose_config,
    train,
)

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMAND = re.compile(r"(?:\.venv/bin/)?python -m seqlab\.(\w+)(.*)")
INPUTS = ("sentences.txt", "my_sentences.txt", "news.en")


def documented_commands() -> list[tuple[str, str]]:
    """(where, command line) of every seqlab command in a fenced block or an inline code span."""
    found = []
    for doc in DOCS:
        text = doc.read_text()
        blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
        for block in blocks:
            for line in block.replace("\\\n", " ").splitlines():
                if COMMAND.search(line.strip()):
                    found.append((doc.name, line.strip()))
        prose = re.sub(r"```[a-z]*\n.*?```", "", text, flags=re.S)
        spans = re.findall(r"`([^`]*python -m seqlab\.[^`]*)`", prose)
        # a bare ``python -m seqlab.x`` in prose names the command; with arguments it is one
        found += [(doc.name, s) for s in spans if (c := COMMAND.search(s)) and c.group(2).strip()]
    return found


def parse(line: str) -> tuple[str, list[str]]:
    """The command and its arguments, without comments or redirections."""
    command = COMMAND.search(line)
    assert command, line
    words = shlex.split(command.group(2), comments=True)
    if ">" in words:
        words = words[: words.index(">")]
    return command.group(1), words


def environment(line: str) -> dict[str, str]:
    """The ``NAME=value`` words before ``python -m`` (a documented environment variable)."""
    before = line[: COMMAND.search(line).start()]  # type: ignore[union-attr]
    pairs = [w.split("=", 1) for w in shlex.split(before) if "=" in w]
    return {name: value for name, value in pairs}


def first_job(overrides: list[str]) -> list[str]:
    """The first job of a sweep: each swept key at its first value."""
    job = []
    for override in OverridesParser.create().parse_overrides(overrides):
        if override.is_sweep_override():
            try:
                value = next(iter(override.sweep_string_iterator()))
            except Exception:  # interval(): a search range, not a list of values
                continue
            job.append(f"{override.get_key_element()}={value}")
        else:
            job.append(override.input_line)
    return job


def tiny_overrides(overrides: list[str]) -> list[str]:
    options = dict(o.split("=", 1) for o in overrides if "=" in o)
    model, task = options.get("model", "lstm"), options.get("task", "copy")
    size = TINY_MODEL.get(MODEL_SIZE.get(model, ""), [])  # a test-only model: its own sizes
    if options.get("model.tie_embeddings") == "true":  # tied: one size for both
        size = [*size, "model.embedding_size=16"]
    return [*overrides, *TINY, *TINY_TASK.get(task, []), *size]


COMMANDS = documented_commands()


def test_the_docs_show_commands_of_every_entry_point() -> None:
    commands = {parse(line)[0] for _, line in COMMANDS}
    assert commands == {
        "train",
        "evaluate",
        "translate",
        "plot",
        "summarize",
        "prepare",
        "generate",
    }


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny run ($RUN), a tiny language model ($LM) and a tiny sweep ($SWEEP), made once for
    every command here."""
    root = tmp_path_factory.mktemp("docs")
    data = root / "data"
    data.mkdir()
    for split in ("train", "valid", "test"):
        (data / f"{split}.tsv").write_text("\n".join(PAIRS * 8) + "\n")
    for name in INPUTS:
        (root / name).write_text("the dog\na cat\n")
    tsv = [f"task.{k}_path={data / f'{s}.tsv'}" for k, s in (("train", "train"),
           ("valid", "valid"), ("test", "test"))]  # fmt: skip
    for split in ("train", "valid", "test"):
        (data / f"{split}.txt").write_text("\n".join(PROSE * 7) + "\n")
    lm = root / "lm"
    text = [f"task.{k}_path={data / f'{k}.txt'}" for k in ("train", "valid", "test")]
    small_lm = ["task.batch_size=4", "training.tbptt_steps=8", *TINY, *TINY_MODEL["recurrent"]]
    train(["model=lstm", "task=lm", *text, *small_lm], lm)
    sweep = root / "sweep"
    run = sweep / "2_tsv"
    small = [*TINY, *TINY_MODEL["seq2seq"], "task.tokenizer=word"]
    train(["model=seq2seq_attention", "task=tsv", *tsv, *small], run)
    for job, delay in enumerate((3, 5)):
        options = [f"task.delay={delay}", "diagnostics.gradient_flow=true", "model=vanilla"]
        train([*options, "task=copy", *tiny_overrides(["task=copy"])[1:]], sweep / f"{job}_d")
    return {"root": root, "RUN": run, "LM": lm, "SWEEP": sweep}


def substitute(words: list[str], artifacts: dict[str, Path]) -> list[str]:
    out = []
    for word in words:
        for name in ("RUN", "LM", "SWEEP"):
            word = word.replace(f"${name}", str(artifacts[name]))
        word = word.replace("file://tests/", f"file://{ROOT}/tests/")
        matches = glob.glob(word.split("=", 1)[-1]) if "*" in word else []
        if matches:
            word = word.split("=", 1)[0] + "=" + matches[0] if "=" in word else matches[0]
        out.append(word)
    return out


@pytest.mark.parametrize(("where", "line"), COMMANDS, ids=[f"{w}:{c[:70]}" for w, c in COMMANDS])
def test_documented_command_runs(
    where: str,
    line: str,
    artifacts: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(artifacts["root"])
    for name, value in environment(line).items():
        monkeypatch.setenv(name, value)
    command, words = parse(line)
    words = substitute(words, artifacts)
    if command == "train":
        launch = ("-m", "hydra/", "hydra.launcher", "hydra.sweeper")  # how, not what, to run
        config = compose_config(first_job([w for w in words if not w.startswith(launch)]))
        if "trainer=gpu" not in words:  # a GPU run is checked against this machine's GPUs
            plan_run(config)
        return
    module = {
        "evaluate": evaluate,
        "translate": translate,
        "prepare": prepare,
        "plot": plot,
        "summarize": summarize,
        "generate": generate,
    }[command]
    if command == "prepare":
        words = [*words, *TINY_TASK["tsv"]]  # the tiny files, not data/*.tsv
    if command == "evaluate":
        words = [*words, f"out={tmp_path / 'eval'}"]
    assert module.main(words) == 0, capsys.readouterr().err


def single_runs() -> list[tuple[str, str]]:
    """The documented training commands that are one run on this machine's CPU."""
    runs = []
    for where, line in COMMANDS:
        command, words = parse(line)
        keys = {w.split("=")[0] for w in words}
        elsewhere = any(w.startswith(("trainer=gpu", "trainer.devices=", "hydra/")) for w in words)
        sweep = "-m" in words or keys & {"experiment", "resume"}
        if command == "train" and not sweep and not elsewhere:
            runs.append((where, line))
    return runs


@pytest.mark.slow
@pytest.mark.parametrize(("where", "line"), single_runs(), ids=[c[:70] for _, c in single_runs()])
def test_documented_training_runs(
    where: str, line: str, artifacts: dict[str, Path], tmp_path: Path, monkeypatch
) -> None:
    """Each documented single run trains at tiny scale (the default suite composes and
    validates it)."""
    monkeypatch.chdir(artifacts["root"])
    for name, value in environment(line).items():
        monkeypatch.setenv(name, value)
    _, words = parse(line)
    results = train(tiny_overrides(substitute(words, artifacts)), tmp_path / "run")
    assert results["status"] == "completed"
