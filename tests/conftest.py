"""Shared test helpers: compose the real configs, run the real entry point in-process, and
tiny budgets for every model and task."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from seqlab.engine.run import CONFIG_DIR, run
from seqlab.engine.run_config import register_schemas
from seqlab.errors import error_boundary

register_schemas()  # what python -m seqlab.train does before Hydra composes


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, each worker gets its share of the cores: two workers of two
    threads each on two cores spin against each other in every small operation (the tiny
    language model's run took 14 s instead of 0.5 s)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


ROOT = Path(__file__).resolve().parents[1]
EXTENSION_CONFIGS = ROOT / "tests" / "extension" / "configs"
# The small public corpora the real-data tests read (never copied into the project):
# $SEQLAB_DATA, as experiment=language_model reads it, else ../shared/data beside the clone.
CORPORA = Path(os.environ.get("SEQLAB_DATA", ROOT.parent / "shared" / "data"))


def development_corpus(name: str) -> Path:
    """The directory of corpus ``name`` (multi30k, sentiment_uci, ...) in CORPORA. A clone
    without the corpora (a user's fresh machine) skips the tests that read them and says where
    they were looked for; CI (CI set, as .ci/run sets it) fails instead, so they always run
    there."""
    path = CORPORA / name
    if not path.is_dir():
        message = f"the development corpus {name} is not in {CORPORA} (SEQLAB_DATA=DIR names it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


# Small budgets for end-to-end runs: a few optimizer steps, tiny data.
TINY = [
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=2",
    "trainer.limit_test_batches=2",
    "trainer.enable_progress_bar=false",
]
TINY_TASK = {
    "copy": [
        "task.n_train=96",
        "task.n_val=64",
        "task.n_test=64",
        "task.batch_size=32",
        "task.delay=5",
        "task.n_recall=3",
        "task.seq2seq.max_len=6",
        "task.seq2seq.test_max_len=8",
    ],
    "translation": [
        "task.n_train=128",
        "task.n_val=32",
        "task.n_test=48",
        "task.batch_size=32",
        "task.max_len=8",
        "task.test_max_len=12",
    ],
    "sentiment": [
        "task.n_train=128",
        "task.n_val=32",
        "task.n_test=32",
        "task.n_order_pairs=16",
        "task.batch_size=32",
    ],
    "tagging": ["task.n_train=128", "task.n_val=32", "task.n_test=32", "task.batch_size=32"],
    "selective_copy": [
        "task.n_train=96",
        "task.n_val=64",
        "task.n_test=64",
        "task.batch_size=32",
        "task.delay=5",
        "task.n_recall=3",
    ],
    "tsv": [
        "task.train_path=${oc.env:SEQLAB_TEST_DATA}/pairs.tsv",
        "task.valid_path=${oc.env:SEQLAB_TEST_DATA}/pairs.tsv",
        "task.test_path=${oc.env:SEQLAB_TEST_DATA}/pairs.tsv",
    ],
    "text_tsv": [
        "task.train_path=${oc.env:SEQLAB_TEST_DATA}/texts.tsv",
        "task.valid_path=${oc.env:SEQLAB_TEST_DATA}/texts.tsv",
        "task.test_path=${oc.env:SEQLAB_TEST_DATA}/texts.tsv",
    ],
    "lm": [
        "task.train_path=${oc.env:SEQLAB_TEST_DATA}/text.txt",
        "task.valid_path=${oc.env:SEQLAB_TEST_DATA}/text.txt",
        "task.test_path=${oc.env:SEQLAB_TEST_DATA}/text.txt",
        "task.batch_size=4",
        "training.tbptt_steps=8",
    ],
}
TINY_MODEL = {
    "recurrent": ["model.hidden_size=16", "model.embedding_size=8"],
    "seq2seq": ["model.hidden_size=16", "model.embedding_size=8", "model.attention_size=8"],
    "baseline": ["model.embedding_size=8", "model.mlp_hidden=16"],
}
MODEL_SIZE: dict[str, str] = {
    "vanilla": "recurrent",
    "lstm": "recurrent",
    "gru": "recurrent",
    "bi": "recurrent",
    "seq2seq": "seq2seq",
    "seq2seq_attention": "seq2seq",
    "bow": "baseline",
    "window": "baseline",
    "mingru": "recurrent",
    "minlstm": "recurrent",
}
# Language-model overrides for the bad-input tests: task=lm on the test text, tiny sizes.
TINY_LM = ["task=lm", *TINY_TASK["lm"], *TINY_MODEL["recurrent"]]
PAIRS = ["the dog\tle chien", "a cat\tun chat", "the cat\tle chat", "a dog\tun chien"]
TEXTS = ["good movie\tpositive", "bad movie\tnegative", "not good\tnegative"]
# A plain text for language models: 1,271 characters in 30 lines (blank ones among them).
PROSE = [
    "the cat sat on the mat and the dog sat on the log.",
    "a bird sang in the tree while the sun rose over the hill.",
    "",
    "the dog ran after the cat, and the cat ran up the tree.",
]


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _test_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tiny tsv / text_tsv files, found by the TINY_TASK paths through SEQLAB_TEST_DATA."""
    directory = tmp_path_factory.getbasetemp() / "seqlab_test_data"
    if not directory.exists():
        directory.mkdir()
        (directory / "pairs.tsv").write_text("\n".join(PAIRS * 8) + "\n")
        (directory / "texts.tsv").write_text("\n".join(TEXTS * 10) + "\n")
        (directory / "text.txt").write_text("\n".join(PROSE * 7 + PROSE[:2]) + "\n")
    monkeypatch.setenv("SEQLAB_TEST_DATA", str(directory))
    return directory


@pytest.fixture(autouse=True)
def _data_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own encoded-data cache (seqlab.text.cache), never ~/.cache."""
    directory = tmp_path_factory.mktemp("seqlab_cache")
    monkeypatch.setenv("SEQLAB_CACHE_DIR", str(directory))
    return directory


def compose_config(overrides: list[str], extension: bool = False) -> DictConfig:
    """The config `python -m seqlab.train <overrides>` would run (``extension`` adds the
    test-only model and task configs to the search path)."""
    if extension:
        overrides = [f"hydra.searchpath=[file://{EXTENSION_CONFIGS}]", *overrides]
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name="train", overrides=overrides)


def tiny(model: str, task: str) -> list[str]:
    """Overrides for a few-second run of ``model`` on ``task``."""
    return [
        f"model={model}",
        f"task={task}",
        *TINY,
        *TINY_TASK[task],
        *TINY_MODEL[MODEL_SIZE[model]],
    ]


def train(overrides: list[str], run_dir: Path, **options: Any) -> dict[str, Any]:
    """Compose and run in-process, as `python -m seqlab.train` does; results.json's content."""
    return run(compose_config(overrides, **options), run_dir)


def clean_error(action: Callable[[], Any], capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``action`` inside seqlab's error boundary; assert it stopped with exit status 1 and
    a message without a traceback; return the message."""
    with pytest.raises(SystemExit) as stopped, error_boundary("seqlab"):
        action()
    assert stopped.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("seqlab: ") and "Traceback" not in err, err
    return err


def run_cli(
    args: list[str], cwd: Path, module: str = "seqlab.train", timeout: int = 300
) -> subprocess.CompletedProcess:
    """Run ``python -m <module> <args>`` in ``cwd`` as a user would (CI=true, 1 thread)."""
    env = {**os.environ, "CI": "true", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_sweep(
    overrides: list[str], sweep: Path, cwd: Path, timeout: int = 300
) -> subprocess.CompletedProcess:
    """`python -m seqlab.train -m <overrides>` of tiny copy runs into ``sweep``, which must
    succeed."""
    result = run_cli(
        ["-m", *overrides, *TINY, *TINY_TASK["copy"], f"hydra.sweep.dir={sweep}"],
        cwd=cwd,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result
