"""Multi-process training (DDP, trainer.devices=N): rank-aware samplers, and 2-process runs
on CPU (gloo) from the command line: end to end for a per-step, a classification and a
seq2seq task, and the first optimizer steps equal to one process with twice the batch."""

from __future__ import annotations

import csv
import json
import os
import random
import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from seqlab.data import batching
from seqlab.data.batching import LengthBatchSampler, ShuffledBatches, shard_batches
from seqlab.engine.trainer import check_devices, processes
from tests.conftest import clean_error, run_cli, tiny, train

pytestmark = pytest.mark.slow  # two gloo processes per test: the CI's second step


def assert_is_a_sharding(shards: list[list[list[int]]], everything: set[int], size: int):
    """Equal batch counts, no empty batch, disjoint, and only a < size leftover skipped."""
    assert len({len(shard) for shard in shards}) == 1
    seen = [i for shard in shards for batch in shard for i in batch]
    assert all(batch for shard in shards for batch in shard)
    assert len(seen) == len(set(seen))
    assert set(seen) <= everything
    assert len(everything) - len(seen) < size


@pytest.mark.parametrize("size", [2, 3, 4])
def test_shard_batches_is_disjoint_equal_and_complete(size):
    rng = random.Random(size)
    for _ in range(50):
        n = rng.randint(size, 200)
        order = list(range(n))
        rng.shuffle(order)
        batches, start = [], 0
        while start < n:  # batches of varying size, as the token-budget sampler makes
            width = rng.randint(1, 16)
            batches.append(order[start : start + width])
            start += width
        shards = [shard_batches(batches, rank, size) for rank in range(size)]
        assert_is_a_sharding(shards, set(order), size)


def test_one_process_keeps_every_batch():
    batches = [[3, 1], [0], [2, 4]]
    assert shard_batches(batches, 0, 1) == batches


def sampler_shards(sampler, size: int, key: int, monkeypatch) -> list[list[list[int]]]:
    shards = []
    for rank in range(size):
        monkeypatch.setattr(batching, "world", lambda rank=rank: (rank, size))
        shards.append(sampler.shard(sampler.epoch_batches(key), rank, size))
        assert len(shards[-1]) == len(sampler)
    return shards


@pytest.mark.parametrize(("n", "batch"), [(96, 8), (100, 8), (97, 16)])
def test_shuffled_batches_shards_are_the_one_process_batches_of_twice_the_size(
    n, batch, monkeypatch
):
    one_process = ShuffledBatches(n, 2 * batch).epoch_batches(1234)
    shards = sampler_shards(ShuffledBatches(n, batch), 2, 1234, monkeypatch)
    assert_is_a_sharding(shards, set(range(n)), 2)
    for step, (first, second) in enumerate(zip(*shards, strict=True)):
        assert first + second == one_process[step]  # rank 0's slice, then rank 1's


@pytest.mark.parametrize("batch_tokens", [None, 40])
def test_length_batches_shard_by_batches(batch_tokens, monkeypatch):
    lengths = [random.Random(i).randint(1, 20) for i in range(301)]
    sampler = LengthBatchSampler(lengths, 8, shuffle=True, seed=3, batch_tokens=batch_tokens)
    for key in range(3):
        shards = sampler_shards(sampler, 2, key, monkeypatch)
        assert_is_a_sharding(shards, set(range(len(lengths))), 2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _iterate_rank(rank: int, size: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=size)
    torch.manual_seed(rank)  # different global generators: the epoch key must be rank 0's
    shuffled = ShuffledBatches(100, 8)
    by_length = LengthBatchSampler([i % 13 + 1 for i in range(90)], 8, True, 0, 30)
    result = {"shuffled": [list(shuffled) for _ in range(2)], "length": list(by_length)}
    result["lengths"] = [len(shuffled), len(by_length)]
    Path(out, f"{rank}.json").write_text(json.dumps(result))
    dist.destroy_process_group()


def test_ranks_agree_on_the_epoch_and_take_disjoint_shards(tmp_path):
    """Two real gloo processes: each epoch's shards are disjoint and cover the data."""
    mp.spawn(_iterate_rank, args=(2, _free_port(), str(tmp_path)), nprocs=2)
    ranks = [json.loads((tmp_path / f"{r}.json").read_text()) for r in range(2)]
    for epoch in range(2):
        shards = [rank["shuffled"][epoch] for rank in ranks]
        assert_is_a_sharding(shards, set(range(100)), 2)
        assert len(shards[0]) == ranks[0]["lengths"][0]
    assert ranks[0]["shuffled"][0] != ranks[0]["shuffled"][1]  # a new order each epoch
    assert_is_a_sharding([rank["length"] for rank in ranks], set(range(90)), 2)


@pytest.mark.parametrize(
    ("trainer", "expected"),
    [
        ({"accelerator": "cpu", "devices": 1}, (1, 1)),
        ({"accelerator": "cpu", "devices": "auto"}, (1, 1)),
        ({"accelerator": "cpu", "devices": 2}, (2, 2)),
        ({"accelerator": "cpu", "devices": "2", "num_nodes": 3}, (2, 6)),
        ({"accelerator": "gpu", "devices": [0, 3]}, (2, 2)),
    ],
)
def test_processes_of_a_trainer(trainer, expected):
    check_devices(trainer)
    assert processes(trainer) == expected


@pytest.mark.parametrize(
    ("trainer", "message"),
    [
        ({"devices": 0}, "trainer.devices must be a number of devices >= 1"),
        ({"devices": -2}, "trainer.devices must be a number of devices >= 1"),
        ({"devices": []}, "trainer.devices must be a number of devices >= 1"),
        ({"devices": 1, "num_nodes": 0}, "trainer.num_nodes must be an integer >= 1"),
        ({"devices": 2, "strategy": "fsdp"}, "seqlab trains on several devices with DDP only"),
    ],
)
def test_bad_device_options_are_refused(trainer, message):
    from seqlab.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        check_devices(trainer)


def test_ddp_from_python_is_refused_with_a_message(tmp_path, capsys):
    overrides = [*tiny("lstm", "copy"), "trainer.devices=2"]
    message = clean_error(lambda: train(overrides, tmp_path / "run"), capsys)
    assert "trainer.devices > 1 (DDP) starts from the command line" in message
    assert not (tmp_path / "run").exists()


# Two processes from the command line (slow: each process starts Python, torch, Lightning)

DDP = ["trainer.devices=2"]


def run_ddp(args: list[str], run_dir: Path, cwd: Path):
    result = run_cli([*args, f"hydra.run.dir={run_dir}"], cwd=cwd, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result, json.loads((run_dir / "results.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "task", "extra", "metric"),
    [
        ("lstm", "copy", [], "test/recall_acc"),
        ("gru", "sentiment", [], "test/acc"),
        ("seq2seq_attention", "translation", ["callbacks.monitor=val/bleu"], "test/bleu"),
        ("lstm", "lm", [], "test/bpc"),
    ],
)
def test_two_process_run_end_to_end(model, task, extra, metric, tmp_path):
    run_dir = tmp_path / "run"
    result, results = run_ddp([*tiny(model, task), *DDP, *extra], run_dir, tmp_path)
    assert results["status"] == "completed" and results["processes"] == 2
    assert metric in results and "Traceback" not in result.stderr
    assert result.stdout.count("seqlab: run dir") == 1  # one report, from rank 0
    assert "Starting with 2 processes" in result.stdout + result.stderr
    # one run dir, nothing elsewhere; the other rank wrote no results, config or outputs/
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    with (run_dir / "metrics.csv").open() as handle:
        steps = [row["step"] for row in csv.DictReader(handle) if row.get("train/ce")]
    assert steps and len(steps) == len(set(steps))  # every step logged once (by rank 0)
    if task == "translation":
        hypotheses = (run_dir / "test_hypotheses.tsv").read_text().splitlines()
        assert len(hypotheses) == 1 + 48  # every test sentence once, from rank 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("task", "options", "batch"),
    [
        ("copy", ["task.n_train=256", "callbacks.stop_when_solved=false"], 32),
        # 2 x 4 streams of the text: the same 8 streams as one process with 8 (158 or 159
        # tokens each: the first windows are full on every rank, so the means agree)
        ("lm", ["training.tbptt_steps=10"], 4),
    ],
)
def test_two_processes_with_batch_b_step_as_one_process_with_batch_2b(
    tmp_path, task, options, batch
):
    """The first optimizer steps of 2 processes x batch b (gradients averaged by DDP) give
    the parameters of 1 process x batch 2b on the same data and seed, within float
    tolerance."""
    common = [
        *tiny("lstm", task),
        "trainer.max_steps=4",
        "trainer.limit_train_batches=null",
        *options,
    ]
    _, two_results = run_ddp(
        [*common, f"task.batch_size={batch}", *DDP], tmp_path / "ddp", tmp_path
    )
    _, one_results = run_ddp([*common, f"task.batch_size={2 * batch}"], tmp_path / "one", tmp_path)
    assert two_results["optimizer_steps"] == one_results["optimizer_steps"] == 4

    def weights(name: str) -> dict[str, torch.Tensor]:
        path = tmp_path / name / "checkpoints" / "last.ckpt"
        return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]

    ddp, one = weights("ddp"), weights("one")
    assert ddp.keys() == one.keys()
    for key in one:
        assert torch.allclose(ddp[key], one[key], atol=1e-6, rtol=1e-5), key
    # and not trivially: the same 4 steps on batches of 32 in one process end elsewhere
    run_ddp([*common, f"task.batch_size={batch}"], tmp_path / "half", tmp_path)
    half = weights("half")
    assert any(not torch.allclose(half[k], one[k], atol=1e-6, rtol=1e-5) for k in one)


@pytest.mark.slow
def test_ddp_inside_a_multirun_is_refused_with_a_message(tmp_path):
    result = run_cli(
        ["-m", *tiny("lstm", "copy"), *DDP, "seed=1,2", f"hydra.sweep.dir={tmp_path / 's'}"],
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "inside a multirun (-m) is not supported" in result.stderr


def test_evaluation_batches_are_not_sharded(monkeypatch):
    sampler = LengthBatchSampler([3, 1, 2, 5, 4], 2, shuffle=False)
    monkeypatch.setattr(batching, "world", lambda: (1, 2))
    assert list(sampler) == [[1, 2], [0, 4], [3]] and len(sampler) == 3


@pytest.mark.slow
def test_a_two_process_run_resumes_exactly(tmp_path):
    """A 2-process run ended at step 13 and extended with resume= from its step-12 resumable
    checkpoint (mid-epoch: each rank restores its position in its shard) ends with the
    weights of the same run never interrupted, bit for bit."""
    common = [
        *tiny("lstm", "copy"),
        *DDP,
        "trainer.max_epochs=10",
        "trainer.limit_train_batches=null",
        "task.n_train=640",
        "callbacks.stop_when_solved=false",
        "callbacks.resume_every_n_steps=4",
    ]
    run_ddp([*common, "trainer.max_steps=25"], tmp_path / "full", tmp_path)
    run_ddp([*common, "trainer.max_steps=13"], tmp_path / "part", tmp_path)
    again = run_cli([f"resume={tmp_path / 'part'}", "trainer.max_steps=25"], cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resuming from" in again.stdout and "step=12.ckpt" in again.stdout
    full, part = (
        torch.load(tmp_path / name / "checkpoints" / "last.ckpt", weights_only=True)
        for name in ("full", "part")
    )
    assert full["global_step"] == part["global_step"] == 20
    assert all(torch.equal(full["state_dict"][k], v) for k, v in part["state_dict"].items())


def test_generators_are_put_back_after_ddps_reseed_and_left_alone_in_one_process():
    from types import SimpleNamespace

    from seqlab.engine.distributed import KeepGeneratorsAcrossDdpSetup

    torch.manual_seed(7)
    keeper = KeepGeneratorsAcrossDdpSetup()
    expected = torch.rand(3)
    torch.manual_seed(0)  # what Lightning's reset_seed does when DDP starts
    keeper.setup(SimpleNamespace(world_size=2), None, "fit")
    assert torch.equal(torch.rand(3), expected)
    torch.manual_seed(0)
    reseeded = torch.rand(3)
    torch.manual_seed(0)
    keeper.setup(SimpleNamespace(world_size=1), None, "fit")
    assert torch.equal(torch.rand(3), reseeded)
