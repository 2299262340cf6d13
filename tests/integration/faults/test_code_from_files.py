"""No file a user is handed can make seqlab import or call anything: every ``_target_`` in a
checkpoint, a run dir's config.yaml or the command line is checked by name against the
allow-list, at every nesting level, before any import; pickled objects are refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import yaml

from tests.integration.faults.conftest import (
    PAYLOAD_MODULE,
    Fault,
    best_checkpoint,
    pickle_payload,
    rewrite_checkpoint,
)

EVIL = f"{PAYLOAD_MODULE}.Anything"


def _set(tree: dict, dotted: str, value: object) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        tree = tree.setdefault(key, {})
    tree[last] = value


# where a crafted checkpoint names the payload -> what the refusal says
CHECKPOINT_TARGETS = {
    "model._target_": f"model._target_={EVIL} is refused",
    "task._target_": f"task._target_={EVIL} is refused",
    "trainer._target_": f"trainer._target_={EVIL} is refused",
    "trainer.profiler._target_": f"trainer.profiler._target_={EVIL} is refused",
    "trainer.plugins.0._target_": "is refused",
    "decoding._target_": f"decoding._target_={EVIL} is refused",
    "callbacks.early._target_": f"callbacks.early._target_={EVIL} is refused",
    "model.extra._target_": f"model.extra._target_={EVIL} is refused",
}


@pytest.mark.parametrize("where", sorted(CHECKPOINT_TARGETS))
@pytest.mark.parametrize("command", ["evaluate", "translate"])
def test_a_checkpoint_naming_code_is_refused_before_any_import(
    fault: Fault, finished_run: Path, where: str, command: str
):
    checkpoint = best_checkpoint(finished_run)
    rewrite_checkpoint(checkpoint, lambda raw: _set(raw["seqlab"]["config"], where, EVIL))
    (fault.root / "in.txt").write_text("the dog\n")
    args = [f"ckpt_path={checkpoint}"] + (["input=in.txt"] if command == "translate" else [])
    outcome = fault.refused(command, args, CHECKPOINT_TARGETS[where])
    assert "checkpoint error" in outcome.err and PAYLOAD_MODULE not in __import__("sys").modules


def test_a_checkpoint_with_a_pickled_payload_is_refused(fault: Fault, finished_run: Path):
    checkpoint = best_checkpoint(finished_run)
    with zipfile.ZipFile(checkpoint) as archive:
        names = archive.namelist()
        data = {n: archive.read(n) for n in names}
    pickled = next(n for n in names if n.endswith("data.pkl"))
    data[pickled] = pickle_payload(fault.sentinel)
    with zipfile.ZipFile(checkpoint, "w") as archive:
        for name in names:
            archive.writestr(name, data[name])
    fault.refused("evaluate", [f"ckpt_path={checkpoint}"], "holds pickled objects other than")


def test_a_legacy_checkpoint_naming_an_unknown_model_kind_is_refused(
    fault: Fault, finished_run: Path
):
    checkpoint = best_checkpoint(finished_run)

    def legacy(raw: dict) -> None:
        model = raw["seqlab"]["config"]["model"]
        model.pop("_target_")
        model["kind"] = EVIL

    rewrite_checkpoint(checkpoint, legacy)
    fault.refused("evaluate", [f"ckpt_path={checkpoint}"], "unknown model kind")


# where a crafted config.yaml names code -> what the refusal says
RUN_CONFIG_TARGETS = {
    "trainer.profiler._target_": "trainer.profiler._target_=torch.load is refused",
    "trainer._target_": "trainer._target_=torch.load is refused",
    "model._target_": "model._target_=torch.load is refused",
    "task._target_": "task._target_=torch.load is refused",
    "runtime._target_": "runtime._target_=torch.load is refused",
}


@pytest.mark.parametrize("where", sorted(RUN_CONFIG_TARGETS))
def test_resuming_a_run_dir_whose_config_names_code_is_refused(
    fault: Fault, finished_run: Path, where: str
):
    payload = fault.root / "payload.pkl"
    payload.write_bytes(pickle_payload(fault.sentinel))
    path = finished_run / "config.yaml"
    config = yaml.safe_load(path.read_text())
    _set(config, where, "torch.load")
    if where == "trainer.profiler._target_":
        config["trainer"]["profiler"]["f"] = str(payload)
        config["trainer"]["profiler"]["weights_only"] = False
    path.write_text(yaml.safe_dump(config))
    fault.refused(
        "train", [f"resume={finished_run}", "trainer.max_epochs=2"], RUN_CONFIG_TARGETS[where]
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (f"model._target_={EVIL}", f"model._target_={EVIL} is refused"),
        (f"task._target_={EVIL}", f"task._target_={EVIL} is refused"),
        (f"trainer._target_={EVIL}", f"trainer._target_={EVIL} is refused"),
        (f"+trainer.profiler._target_={EVIL}", f"trainer.profiler._target_={EVIL} is refused"),
        (f"+trainer.strategy._target_={EVIL}", f"trainer.strategy._target_={EVIL} is refused"),
        (f"+training.scheduled_sampling._target_={EVIL}", "is refused"),
    ],
)
def test_a_command_line_naming_code_is_refused(fault: Fault, override: str, message: str):
    fault.refused("train", ["model=lstm", "task=copy", override, "hydra.run.dir=run"], message)
    assert not (fault.root / "run" / "config.yaml").exists()  # no run started


def test_an_extension_module_that_does_not_exist_is_a_message(fault: Fault):
    fault.monkeypatch.setenv("SEQLAB_EXTENSIONS", "no_such_module_here")
    fault.refused(
        "train",
        ["model=lstm", "task=copy", "hydra.run.dir=run"],
        "SEQLAB_EXTENSIONS names the module no_such_module_here, which cannot be imported",
    )


def test_a_poisoned_data_cache_entry_is_rebuilt_without_running_it(
    fault: Fault, finished_run: Path
):
    """A cache entry is data: a pickled payload under a valid key is ignored and rebuilt."""
    from omegaconf import OmegaConf

    from seqlab.engine.run import run
    from seqlab.tasks.tsv import TsvConfig
    from seqlab.text import cache

    config = OmegaConf.load(finished_run / "config.yaml")
    config.task.cache = True
    options = {k: v for k, v in OmegaConf.to_container(config.task).items() if k != "_target_"}
    key = TsvConfig(**options).build("seq2seq").cache_key()
    cache.cache_dir().mkdir(parents=True, exist_ok=True)
    (cache.cache_dir() / f"{key}.pt").write_bytes(pickle_payload(fault.sentinel))
    config.trainer.max_epochs = 1
    results = run(config, fault.root / "rerun")
    assert results["status"] == "completed" and not fault.sentinel.exists()
    assert "ignoring the unreadable data cache" in fault.capsys.readouterr().out
