"""End to end, in-process, through seqlab.engine.run.run on composed configs: every valid model ×
task pair trains and writes its run dir; every invalid one stops before any data is built."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException

from seqlab.errors import ConfigError
from tests.conftest import TINY, TINY_LM, TINY_TASK, clean_error, compose_config, tiny, train
from tests.unit.reporting.test_step_scalars import tensorboard_scalars

MODELS = [
    "vanilla",
    "lstm",
    "gru",
    "bi",
    "seq2seq",
    "seq2seq_attention",
    "bow",
    "window",
    "mingru",
    "minlstm",
]
MINIMAL = ["mingru", "minlstm"]
TASKS = ["copy", "translation", "tsv", "sentiment", "text_tsv", "tagging", "lm", "selective_copy"]
RECURRENT = ["vanilla", "lstm", "gru", "bi"]
ENCODER_DECODERS = ["seq2seq", "seq2seq_attention"]
VALID = {
    "copy": [*RECURRENT, "window", *ENCODER_DECODERS, *MINIMAL],
    "translation": ENCODER_DECODERS,
    "tsv": ENCODER_DECODERS,
    "sentiment": [*RECURRENT, "bow", "window", *MINIMAL],
    "text_tsv": [*RECURRENT, "bow", "window", *MINIMAL],
    "tagging": [*RECURRENT, "window", *MINIMAL],
    "lm": ["vanilla", "lstm", "gru", *MINIMAL],
    "selective_copy": [*RECURRENT, "window", *MINIMAL],
}
VALID_PAIRS = [(m, t) for t in TASKS for m in VALID[t]]
# Pairs whose path through seqlab another default pair already takes (the same objective and
# a model of the same family): the slow suite trains them, keeping the default suite short.
SLOW_PAIRS = {
    ("minlstm", "copy"),
    ("mingru", "sentiment"),
    ("minlstm", "text_tsv"),
    ("mingru", "tagging"),
    ("minlstm", "tagging"),
    ("vanilla", "lm"),
    ("gru", "lm"),
    ("vanilla", "selective_copy"),
    ("gru", "selective_copy"),
    ("bi", "selective_copy"),
    ("window", "selective_copy"),
    ("minlstm", "selective_copy"),
}
INVALID_PAIRS = [(m, t) for t in TASKS for m in MODELS if m not in VALID[t]]
SEQ2SEQ_METRICS = {
    "test/bleu",
    "test/exact_match",
    "test/acc_teacher_forced",
    "test/acc_free_running",
    "test/exposure_bias",
}
METRICS = {
    "copy": {"test/ce", "test/baseline_ce", "test/recall_acc", "test/seq_acc"},
    "selective_copy": {"test/ce", "test/baseline_ce", "test/recall_acc", "test/seq_acc"},
    "tagging": {"test/acc", "test/acc_ambiguous"},
    "sentiment": {"test/acc", "test/acc_order_dependent", "test/ce"},
    "text_tsv": {"test/acc", "test/ce"},
    "lm": {"test/ce", "test/ppl", "test/bpc", "test/acc", "test/unigram_ce", "test/unigram_bpc"},
    "translation": SEQ2SEQ_METRICS,
    "tsv": SEQ2SEQ_METRICS,
}


def test_every_model_task_pair_is_covered():
    assert len(VALID_PAIRS) + len(INVALID_PAIRS) == len(MODELS) * len(TASKS)


@pytest.mark.parametrize(
    ("model", "task"),
    [
        pytest.param(m, t, marks=pytest.mark.slow) if (m, t) in SLOW_PAIRS else (m, t)
        for m, t in VALID_PAIRS
    ],
)
def test_every_valid_pair_trains_end_to_end(tmp_path: Path, model: str, task: str):
    run_dir = tmp_path / "run"
    results = train(tiny(model, task), run_dir)
    assert results["model"] == model and results["task"] == task
    assert results["parameters"] > 0 and results["train_tokens_per_s"] > 0
    expected = SEQ2SEQ_METRICS if model in ENCODER_DECODERS else METRICS[task]
    assert expected <= set(results), expected - set(results)
    assert (run_dir / "config.yaml").exists() and (run_dir / "metrics.csv").exists()
    assert (run_dir / "checkpoints" / "last.ckpt").exists()
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert json.loads((run_dir / "results.json").read_text())["model"] == model
    if model in ENCODER_DECODERS:
        assert (run_dir / "test_hypotheses.tsv").read_text().startswith("index\tsource")
        assert "nrefs:1" in results["test/bleu_signature"]


@pytest.mark.parametrize(("model", "task"), INVALID_PAIRS)
def test_every_invalid_pair_is_refused_with_the_models_that_can(tmp_path, capsys, model, task):
    cfg = compose_config([f"model={model}", f"task={task}", *TINY_TASK[task]])
    message = clean_error(lambda: train_composed(cfg, tmp_path / "run"), capsys)
    assert not (tmp_path / "run").exists()
    if task == "lm" and model == "bi":
        assert "model=bi is bidirectional: its backward direction reads the tokens after" in message
        assert "would see the very token it must predict" in message
        return
    needs = {
        "translation": "needs an output sequence (an encoder-decoder). Models that can: "
        "seq2seq, seq2seq_attention.",
        "tsv": "needs an output sequence (an encoder-decoder). Models that can: seq2seq, "
        "seq2seq_attention.",
        "copy": "needs one output per input step or an output sequence (an encoder-decoder). "
        "Models that can: bi, gru, lstm, mingru, minlstm, seq2seq, seq2seq_attention, "
        "vanilla, window.",
        "sentiment": "needs one label per sequence. Models that can: bi, bow, gru, lstm, "
        "mingru, minlstm, vanilla, window.",
        "text_tsv": "needs one label per sequence. Models that can: bi, bow, gru, lstm, "
        "mingru, minlstm, vanilla, window.",
        "tagging": "needs one output per input step. Models that can: bi, gru, lstm, "
        "mingru, minlstm, vanilla, window.",
        "selective_copy": "needs one output per input step. Models that can: bi, gru, lstm, "
        "mingru, minlstm, vanilla, window.",
        "lm": "needs the next token from the ones before it (a left-to-right language model). "
        "A language model predicts each token from the tokens before it alone",
    }[task]
    assert f"model={model} cannot be trained on task={task}: the task {needs}" in message
    if task == "lm":
        assert message.rstrip().endswith("Models that can: gru, lstm, mingru, minlstm, vanilla."), (
            message
        )


def train_composed(cfg, run_dir: Path) -> None:
    from seqlab.engine.run import run

    run(cfg, run_dir)


@pytest.mark.parametrize("model", RECURRENT)
def test_explicit_cells_train_end_to_end(tmp_path: Path, model: str):
    results = train([*tiny(model, "copy"), "model.impl=explicit"], tmp_path / "run")
    assert results["config"]["model"]["impl"] == "explicit" and "test/recall_acc" in results


def test_tbptt_and_clipping_run_end_to_end(tmp_path: Path):
    run_dir = tmp_path / "run"
    results = train(
        [
            *tiny("lstm", "copy"),
            "training.tbptt_steps=4",
            "training.clip_norm=0.5",
            "training.clip_value=1.0",
            "trainer.log_every_n_steps=2",
        ],
        run_dir,
    )
    # 11 steps in chunks of 4 -> 3 optimizer steps per batch, 3 batches.
    assert results["optimizer_steps"] == 9
    # The gradient norm of every optimizer step, once each, in metrics.csv and TensorBoard.
    with (run_dir / "metrics.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r.get("train/grad_norm")]
    assert [int(r["step"]) for r in rows] == list(range(1, 10))
    steps = [step for step, _ in tensorboard_scalars(run_dir / "tensorboard", "train/grad_norm")]
    assert steps == list(range(1, 10))


def test_a_run_without_testing_completes_without_test_metrics(tmp_path: Path, capsys):
    results = train([*tiny("gru", "tagging"), "trainer.limit_test_batches=0"], tmp_path / "run")
    assert results["status"] == "completed" and results["optimizer_steps"] == 3
    assert not [k for k in results if k.startswith("test/")]
    assert "not tested: trainer.limit_test_batches=0" in capsys.readouterr().out
    assert json.loads((tmp_path / "run" / "results.json").read_text())["status"] == "completed"


def test_the_run_dir_holds_the_config_as_run_with_every_default(tmp_path: Path):
    results = train(tiny("gru", "tagging"), tmp_path / "run")
    config = results["config"]
    assert config["model"]["_target_"] == "seqlab.models.rnn.RNNConfig"
    assert config["model"]["cell"] == "gru" and config["model"]["forget_bias"] == 1.0
    assert config["task"]["max_gap"] == 3 and config["callbacks"]["monitor"] == "val/ce"
    assert results["plot_metrics"] == ["test/acc", "test/acc_ambiguous"]
    assert results["best_checkpoint_step"] == 3 and results["optimizer_steps"] == 3


def test_scheduled_sampling_and_beam_search_run(tmp_path: Path):
    run_dir = tmp_path / "run"
    results = train(
        [
            *tiny("seq2seq", "translation"),
            "model.cell=lstm",
            "training.scheduled_sampling.schedule=linear",
            "training.scheduled_sampling.c=0.1",
            "decoding.beam_size=3",
            "trainer.log_every_n_steps=1",
        ],
        run_dir,
    )
    rows = list(csv.DictReader((run_dir / "metrics.csv").open()))
    ratios = [
        float(r["train/teacher_forcing_ratio"])
        for r in rows
        if r.get("train/teacher_forcing_ratio")
    ]
    assert ratios == pytest.approx([1.0, 0.9, 0.8])  # linear: k - c*i per optimizer step
    assert results["decoding"]["beam_size"] == 3


def test_a_task_stops_once_solved_and_patience_stops_a_plateau(tmp_path: Path):
    solved = train(
        [*tiny("window", "copy"), "model.window=11", "training.lr=0.03", "trainer.max_epochs=30"],
        tmp_path / "a",
    )
    assert solved["epochs"] < 30 and solved["test/recall_acc"] >= 0.995  # copy's criterion
    patient = train(
        [
            *tiny("bow", "sentiment"),
            "trainer.max_epochs=30",
            "callbacks.stop_when_solved=false",
            "callbacks.monitor=val/acc",
            "callbacks.monitor_mode=max",
            "callbacks.patience=1",
            "training.lr=1e-6",
        ],
        tmp_path / "b",
    )
    assert patient["epochs"] < 30


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model=bi", "training.tbptt_steps=10"], "backward direction needs the whole sequence"),
        (["model=window", "training.tbptt_steps=5"], "no hidden state to carry"),
        (["model=lstm", "task=sentiment", "training.tbptt_steps=5"], "needs a per-step task"),
        (
            ["model=lstm", "task=tagging", "callbacks.monitor=val/bleu"],
            "callbacks.monitor=val/bleu is not logged",
        ),
        (["training.tbptt_steps=0"], "training.tbptt_steps must be a positive number"),
        (["training.clip_norm=0"], "training.clip_norm must be > 0"),
        (["training.clip_value=-1"], "training.clip_value must be > 0"),
        (["training.teacher_forcing=1.5"], r"must be in [0, 1]"),
        (["training.scheduled_sampling.schedule=cosine"], "schedule='cosine' is unknown"),
        (["training.optimizer=adagrad"], "training.optimizer='adagrad' is unknown"),
        (["model.hidden_size=0"], "model.hidden_size must be > 0"),
        (["model.dropout=1.0"], r"model.dropout must be in [0, 1)"),
        (["model=bi", "model.cell=lstmm"], "model.cell='lstmm' is unknown; choose one of rnn"),
        (["model.pooling=sum"], "model.pooling='sum' is unknown"),
        (
            ["model=seq2seq", "model.decoder_bidirectional=true"],
            "a decoder cannot be bidirectional",
        ),
        (["model=window", "model.window=0"], "model.window must be > 0"),
        (["task.delay=0"], "task.delay must be >= 1"),
        (["task.alphabet=1"], "task.alphabet must be >= 2"),
        (
            ["task=translation", "model=seq2seq", "task.min_len=9", "task.max_len=3"],
            "need 1 <= task.min_len <= task.max_len",
        ),
        (
            ["task=translation", "model=seq2seq", "task.pool_max_len=10"],
            "task.pool_max_len (10) must be >= task.max_len",
        ),
        (["task=tagging", "task.length=4"], "task.length=4 is too short"),
        (["task=sentiment", "task.contrast_rate=2"], "task.contrast_rate must be in [0, 1]"),
        (["task=tsv", "model=seq2seq"], "task.train_path is not set"),
        (["task=text_tsv"], "task.train_path is not set"),
        (["decoding.beam_size=0"], "decoding.beam_size must be >= 1"),
        (["decoding.max_length=0"], "decoding.max_length must be >= 1"),
        (["callbacks.monitor_mode=up"], "callbacks.monitor_mode='up' is unknown"),
        (["callbacks.patience=0"], "callbacks.patience must be >= 1"),
        (["runtime.threads=-1"], "runtime.threads must be >= 0"),
        (["trainer.devices=2"], "trainer.devices > 1 (DDP) starts from the command line"),
        (["trainer.devices=0"], "trainer.devices must be a number of devices >= 1"),
        (
            ["trainer.devices=2", "+trainer.strategy=fsdp"],
            "seqlab trains on several devices with DDP only",
        ),
        (
            ["+trainer.max_epoch=3"],
            "unknown key trainer.max_epoch (did you mean trainer.max_epochs?)",
        ),
        (["+trainer.logger=false"], "trainer.logger is set by seqlab"),
        (["trainer.accelerator=tpu"], "trainer: "),
        (["trainer.accelerator=gpu"], "PyTorch sees no GPU on this machine"),
        (["trainer.max_epochs=-5"], "trainer.max_epochs must be an integer >= -1"),
        (["trainer.max_steps=-2"], "trainer.max_steps must be an integer >= -1"),
        (["trainer.max_time=soon"], "trainer.max_time must be DD:HH:MM:SS"),
        (["trainer.limit_train_batches=1.5"], "trainer.limit_train_batches must be a number"),
        (["trainer.log_every_n_steps=0"], "trainer.log_every_n_steps must be an integer >= 1"),
        (["trainer.val_check_interval=0"], "trainer.val_check_interval must be a number"),
        (["trainer.val_check_interval=500"], "an epoch has 3 training batches"),
        (["trainer.precision=8-mixed"], "trainer.precision='8-mixed' is not supported"),
        (["diagnostics.every_n_steps=0"], "diagnostics.every_n_steps must be >= 1"),
        (["trainer.enable_progress_bar=sometimes"], "trainer.enable_progress_bar must be"),
        (["+trainer.gradient_clip_val=1.0"], "clip with training.clip_norm"),
        (["+trainer.accumulate_grad_batches=4"], "seqlab optimises manually"),
        (["callbacks.resume_every_n_steps=0"], "callbacks.resume_every_n_steps must be >= 1"),
        (["callbacks.resume_keep=0"], "callbacks.resume_keep must be >= 1"),
        ([*TINY_LM, "training.tbptt_steps=0"], "training.tbptt_steps must be a positive number"),
        ([*TINY_LM, "training.tbptt_steps=null"], "task=lm trains over windows of"),
        ([*TINY_LM, "training.tbptt_steps=400"], "shorter than one window of"),
        ([*TINY_LM, "task.batch_size=2000"], "shorter than one window of"),
        ([*TINY_LM, "task.level=bytes"], "task.level='bytes' is unknown"),
        ([*TINY_LM, "model.tie_embeddings=true"], "model.embedding_size must equal"),
        ([*TINY_LM, "model.weight_drop=1.5"], "model.weight_drop is a probability"),
        (["model.tie_embeddings=true", "model.embedding_size=128"], "applies to language models"),
        (["training.tbptt_random_length=true"], "applies to task=lm only"),
        ([*TINY_LM, "task.eval_streams=0"], "task.eval_streams must be >= 1"),
    ],
)
def test_bad_input_stops_before_training(tmp_path, capsys, earlier_run, overrides, message):
    cfg = compose_config([*TINY, *overrides])
    error = clean_error(lambda: train_composed(cfg, tmp_path / "run"), capsys)
    assert message in error, error
    assert not (tmp_path / "run" / "checkpoints").exists()


BAD_FILES = {
    "missing": None,
    "no_tab": b"good\tpositive\njust words\n",
    "empty": b"",
    "empty_text": b"good\tpositive\n \tnegative\n",
    "latin1": "caf\xe9 good\tpositive\n".encode("latin-1"),
    "label": b"good\tpositive\nfine\tmaybe\n",
    "empty_side": b"the dog\tle chien\n\tun chat\n",
    "columns": b"a\tb\tc\n",
    "csv_line": b"good movie,1\nbad,0\n",
    "blank": b"\n \n\n",
}


@pytest.mark.parametrize(
    ("task", "file", "message"),
    [
        ("text_tsv", "missing", "missing.tsv does not exist"),
        ("text_tsv", "no_tab", "no_tab.tsv:2: no tab"),
        (
            "text_tsv",
            "csv_line",
            "csv_line.tsv:1: no tab in this line; expected 'text<TAB>label', got 'good movie,1'."
            " It looks comma-separated (CSV); seqlab reads tab-separated files. Convert it: "
            "python -c",
        ),
        ("text_tsv", "empty", "empty.tsv holds no examples"),
        ("text_tsv", "empty_text", "empty_text.tsv:2: the text is empty"),
        ("text_tsv", "latin1", "latin1.tsv:1: not valid UTF-8"),
        ("text_tsv", "label", "label.tsv:2: label 'maybe' is neither a class (negative, positive)"),
        ("tsv", "missing", "missing.tsv does not exist"),
        ("tsv", "empty_side", "empty_side.tsv:2: the source side is empty"),
        ("tsv", "columns", "columns.tsv:1: 3 tab-separated columns"),
        (
            "tsv",
            "no_tab",
            "no_tab.tsv:2: no tab in this line; expected 'source<TAB>target', got 'just words'. "
            "For a corpus in two aligned files, one sentence a line (train.en and train.de): "
            "paste train.en train.de > train.tsv",
        ),
        ("tsv", "latin1", "latin1.tsv:1: not valid UTF-8"),
        ("lm", "missing", "missing.tsv does not exist"),
        ("lm", "empty", "empty.tsv holds no text (it is empty or only whitespace)"),
        ("lm", "blank", "blank.tsv holds no text"),
        ("lm", "latin1", "latin1.tsv:1: not valid UTF-8"),
    ],
)
def test_bad_data_files_stop_with_file_and_line(tmp_path, capsys, earlier_run, task, file, message):
    good = tmp_path / "good.tsv"
    good.write_text("good\tpositive\nbad\tnegative\n" if task == "text_tsv" else "a b\tc d\n")
    bad = tmp_path / f"{file}.tsv"
    if BAD_FILES[file] is not None:
        bad.write_bytes(BAD_FILES[file])
    model = "seq2seq" if task == "tsv" else "lstm"
    labels = ["task.labels=[negative,positive]"] if task == "text_tsv" else []
    cfg = compose_config(
        [
            f"model={model}",
            f"task={task}",
            f"task.train_path={good}",
            f"task.valid_path={good}",
            f"task.test_path={bad}",
            *labels,
            *(["training.tbptt_steps=4"] if task == "lm" else []),
            *TINY,
        ]
    )
    error = clean_error(lambda: train_composed(cfg, tmp_path / "run"), capsys)
    assert error.startswith("seqlab: data error: ") and message in error, error
    assert not (tmp_path / "run").exists()


def test_a_value_of_the_wrong_type_is_refused_while_composing():
    with pytest.raises(ConfigCompositionException, match="seed=abc"):
        compose_config(["seed=abc"])
    with pytest.raises(ConfigCompositionException, match="model.hidden_size=big"):
        compose_config(["model.hidden_size=big"])


@pytest.fixture(scope="module")
def _earlier_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("earlier") / "run"
    train(tiny("gru", "tagging"), run_dir)
    return run_dir


@pytest.fixture
def earlier_run(_earlier_run_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """A finished run, the current directory's outputs beside it; each test must leave it
    untouched."""
    monkeypatch.chdir(_earlier_run_dir.parent)
    before = {p: p.read_bytes() for p in _earlier_run_dir.rglob("*") if p.is_file()}
    yield _earlier_run_dir
    assert {p: p.read_bytes() for p in _earlier_run_dir.rglob("*") if p.is_file()} == before


def test_a_finished_run_dir_is_never_reused(tmp_path: Path):
    (tmp_path / "results.json").write_text("{}")
    with pytest.raises(ConfigError, match="never overwrites a previous run"):
        train(tiny("lstm", "copy"), tmp_path)
    assert (tmp_path / "results.json").read_text() == "{}"


def test_problems_in_several_groups_are_reported_together(tmp_path, capsys):
    """One validation pass: a bad model key, a bad training value and a bad decoding value
    come back in one message, before any data is built."""
    cfg = compose_config(
        [*tiny("lstm", "copy"), "model.hidden_size=0", "training.lr=-1", "decoding.beam_size=0"]
    )
    error = clean_error(lambda: train_composed(cfg, tmp_path / "run"), capsys)
    assert error.startswith("seqlab: configuration error: 3 problems in the config:"), error
    for key in ("model.hidden_size", "training.lr", "decoding.beam_size"):
        assert key in error, error
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "options",
    [
        ["model.attention=general", "model.input_feeding=false"],
        ["model.attention=dot", "model.bidirectional=false", "decoding.beam_size=2"],
    ],
    ids=["general_no_feeding", "dot_feeding_beam"],
)
def test_luong_attention_trains_and_decodes_end_to_end(tmp_path: Path, options: list[str]):
    results = train([*tiny("seq2seq_attention", "translation"), *options], tmp_path / "run")
    assert results["status"] == "completed" and "test/bleu" in results
    assert results["config"]["model"]["attention"] == options[0].split("=")[1]
