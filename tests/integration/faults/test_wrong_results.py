"""Results that would be wrong without a word: each is now right, or refused."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

from seqlab.text import cache
from tests.conftest import TINY, TINY_TASK
from tests.integration.faults.conftest import Fault, best_checkpoint, rewrite_checkpoint


def test_translate_keeps_one_output_line_per_input_line(fault: Fault, finished_run: Path):
    """U+2028, a form feed and a lone carriage return are inside a line, not line ends;
    \\r\\n is a line end."""
    lines = ["the dog\u2028a cat", "a cat\x0cthe dog", "the cat\rthe dog", "a dog"]
    (fault.root / "in.txt").write_text("\r\n".join(lines) + "\r\n", newline="")
    args = [f"ckpt_path={best_checkpoint(finished_run)}", "input=in.txt", "output=out.txt"]
    outcome = fault.invoke("translate", args)
    assert outcome.code == 0, outcome.err
    assert (fault.root / "out.txt").read_text().count("\n") == len(lines)
    assert f"{len(lines)} lines -> out.txt" in outcome.err


def _sweep_of(fault: Fault, finished_run: Path) -> Path:
    """A sweep dir: two finished jobs of one configuration and one that stopped without a
    word (killed: its Hydra record, no results.json)."""
    sweep = fault.root / "sweep"
    for job in ("0_seed=1", "1_seed=2"):
        shutil.copytree(finished_run, sweep / job)
    crashed = sweep / "2_seed=3" / ".hydra"
    crashed.mkdir(parents=True)
    record = (finished_run / "config.yaml").read_text().replace("seed: 0", "seed: 3", 1)
    (crashed / "config.yaml").write_text(record)
    (sweep / "multirun.yaml").write_text("hydra: {}\n")
    return sweep


def test_summarize_counts_and_lists_a_job_that_stopped_without_results(
    fault: Fault, finished_run: Path
):
    sweep = _sweep_of(fault, finished_run)
    outcome = fault.invoke("summarize", [str(sweep)])
    assert outcome.code == 0, outcome.err
    assert "1 of 3 runs did not complete" in outcome.out
    assert "2_seed=3: unfinished: stopped without writing results.json" in outcome.out
    with (sweep / "summary_by_config.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["n"], r["n_failed"]) for r in rows] == [("2", "1")]
    assert "2 of 3" in outcome.out


def test_summarize_says_a_job_is_still_running(fault: Fault, finished_run: Path):
    from tests.integration.faults.test_run_dir_owner import held_by_another

    sweep = _sweep_of(fault, finished_run)
    with held_by_another(sweep / "2_seed=3", pid=31337):
        outcome = fault.invoke("summarize", [str(sweep)])
    assert "2_seed=3: running: still running (pid 31337)" in outcome.out


def test_a_replaced_data_file_with_the_same_size_and_mtime_is_not_read_from_the_cache(
    tmp_path: Path,
):
    first = tmp_path / "train.tsv"
    first.write_text("a b\tc d\n")
    stat = first.stat()
    key = cache.files_key([str(first)], {})
    replacement = tmp_path / "new.tsv"
    replacement.write_text("x y\tz w\n")  # same size
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, first)
    assert first.stat().st_size == stat.st_size and first.stat().st_mtime_ns == stat.st_mtime_ns
    assert cache.files_key([str(first)], {}) != key
    first.write_text("q r\ts t\n")  # rewritten in place, its mtime set back
    os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert cache.files_key([str(first)], {}) != key


def _point_checkpoint_at(checkpoint: Path, data: Path) -> None:
    def repoint(raw: dict) -> None:
        task = raw["seqlab"]["config"]["task"]
        for key, name in (("train_path", "train"), ("valid_path", "valid"), ("test_path", "test")):
            task[key] = str(data / f"{name}.tsv")

    rewrite_checkpoint(checkpoint, repoint)


def test_evaluate_needs_only_the_split_it_scores(fault: Fault, finished_run: Path):
    checkpoint = best_checkpoint(finished_run)
    data = fault.root / "data"
    _point_checkpoint_at(checkpoint, data)
    with_train = fault.invoke("evaluate", [f"ckpt_path={checkpoint}", "out=with"])
    assert with_train.code == 0, with_train.err
    (data / "train.tsv").unlink()
    (data / "valid.tsv").unlink()
    without = fault.invoke("evaluate", [f"ckpt_path={checkpoint}", "out=without"])
    assert without.code == 0, without.err
    assert (fault.root / "with" / "results.json").read_text().replace("with", "") == (
        fault.root / "without" / "results.json"
    ).read_text().replace("without", "")


def test_evaluate_on_val_scores_against_the_validation_references(fault: Fault, finished_run: Path):
    checkpoint = best_checkpoint(finished_run)
    data = fault.root / "data"
    (data / "valid.tsv").write_text("a dog\tun chien\nthe cat\tle chat\n")
    _point_checkpoint_at(checkpoint, data)
    outcome = fault.invoke("evaluate", [f"ckpt_path={checkpoint}", "split=val", "out=val"])
    assert outcome.code == 0, outcome.err
    with (fault.root / "val" / "test_hypotheses.tsv").open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert [(r["source"], r["reference"]) for r in rows] == [
        ("a dog", "un chien"),
        ("the cat", "le chat"),
    ]


def test_a_sweep_goes_on_past_a_refused_job_and_lists_it(fault: Fault):
    sweep = fault.root / "sweep"
    outcome = fault.invoke(
        "train",
        [
            "-m",
            "model=bow,lstm",
            "task=copy",
            *TINY,
            *TINY_TASK["copy"],
            f"hydra.sweep.dir={sweep}",
        ],
    )
    assert outcome.code == 1 and "Traceback" not in outcome.err
    assert "model=bow cannot be trained on task=copy" in outcome.err
    assert "the sweep goes on" in outcome.err and "1 sweep job(s) failed" in outcome.err
    lstm, bow = next(sweep.glob("1_model=lstm*")), next(sweep.glob("0_model=bow*"))
    assert '"status": "completed"' in (lstm / "results.json").read_text()
    assert '"status": "failed"' in (bow / "results.json").read_text()
    assert f"{bow.name}: failed: configuration error: model=bow" in outcome.out
    summary = (sweep / "summary.csv").read_text()
    assert "failed" in summary and "completed" in summary
