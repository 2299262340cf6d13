"""Train one model on one task: ``python -m seqlab.train model=lstm task=copy``.

Config -> validated objects -> task data -> model -> objective -> Trainer -> fit -> test on the
best checkpoint -> results.json, all inside the run's own directory.
"""

from __future__ import annotations

import logging
import resource
import sys
import time
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from seqlab.config.checks import ConfigErrors
from seqlab.config.compatibility import check_combination, check_spec
from seqlab.config.location import CONFIG_DIR as SHIPPED_CONFIGS
from seqlab.config.schema import ModelConfig, TaskConfig, build_config, instantiate_config
from seqlab.config.targets import check_targets
from seqlab.config.training import TrainingConfig
from seqlab.diagnostics.gradient_flow import DiagnosticsConfig, GradientFlow, check_diagnostics
from seqlab.engine.callbacks import CallbacksConfig, build_callbacks, check_monitored_metrics
from seqlab.engine.checkpoint_io import Preempted
from seqlab.engine.distributed import KeepGeneratorsAcrossDdpSetup, check_ddp_launch
from seqlab.engine.resume import ResumePoint, begin_resume, prepare_resume
from seqlab.engine.run_dir import owned_run_dir
from seqlab.engine.runtime import RuntimeConfig, configure_runtime
from seqlab.engine.trainer import (
    build_trainer,
    check_validation_interval,
    processes,
    progress_bar_enabled,
    trainer_options,
)
from seqlab.errors import REPORT, ConfigError, NonFiniteLossError, SeqlabError
from seqlab.models import count_parameters
from seqlab.models.pretrained import load_pretrained
from seqlab.models.search import DecodingConfig
from seqlab.objectives import OBJECTIVES, build_objective
from seqlab.reporting.loggers import build_loggers
from seqlab.reporting.results import (
    RESULTS_FILE,
    failure_record,
    flatten,
    write_hypotheses,
    write_results,
)
from seqlab.spec import TaskSpec


class _DropAdverts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Tip: For seamless cloud" not in str(record.msg)


_ADVERTS = _DropAdverts()


def quiet_library_chatter() -> None:
    """Silence known-harmless library warnings and adverts (idempotent). The run dir is ours
    alone (guard_run_dir); under DDP every rank evaluates the whole split (seqlab.data.batching),
    so the logged metrics are already the same on every rank and syncing them would only cost
    time."""
    for message in (
        ".*exists and is not empty.*",
        ".*LeafSpec.*",
        ".*does not have many workers.*",
        ".*sync_dist=True.*",
    ):
        warnings.filterwarnings("ignore", message=message)
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_ADVERTS)


CONFIG_DIR = str(SHIPPED_CONFIGS)  # Hydra takes it as a string


@dataclass
class RunPlan:
    """A composed config turned into validated objects; nothing is built yet."""

    task: TaskConfig
    model: ModelConfig
    training: TrainingConfig
    decoding: DecodingConfig
    diagnostics: DiagnosticsConfig
    callbacks: CallbacksConfig
    runtime: RuntimeConfig
    trainer: dict[str, Any]
    output: str  # the output shape the model produces on the task (seqlab.spec)


def plan_run(cfg: DictConfig) -> RunPlan:
    """Validate every group, then the rules across groups (model × task × training), before
    any data is generated or read; every group's problems are reported in one ConfigError.
    First of all, every ``_target_`` at every level is checked by name against the allow-list
    (seqlab.config.targets): a config from a file runs no code."""
    check_targets(cfg)
    errors = ConfigErrors()
    task = errors.check(lambda: instantiate_config(cfg.task, "task", TaskConfig))
    model = errors.check(lambda: instantiate_config(cfg.model, "model", ModelConfig))
    training = errors.check(lambda: build_config(cfg.training, "training", TrainingConfig))
    trainer = errors.check(lambda: trainer_options(cfg.trainer))
    decoding = errors.check(lambda: build_config(cfg.decoding, "decoding", DecodingConfig))
    diagnostics = errors.check(
        lambda: build_config(cfg.get("diagnostics") or {}, "diagnostics", DiagnosticsConfig)
    )
    callbacks = errors.check(lambda: build_config(cfg.callbacks, "callbacks", CallbacksConfig))
    runtime = errors.check(lambda: build_config(cfg.runtime, "runtime", RuntimeConfig))
    errors.check(lambda: check_seed("seed", cfg.seed))
    if task is not None and hasattr(task, "data_seed"):
        errors.check(lambda: check_seed("task.data_seed", task.data_seed))
    errors.raise_if_any()
    assert task and model and training and trainer is not None and decoding and diagnostics
    assert callbacks and runtime
    unbounded = trainer.get("max_steps", -1) == -1 and trainer.get("max_epochs") in (None, -1)
    if training.lr_schedule == "cosine" and unbounded:
        raise ConfigError(
            "training.lr_schedule=cosine decays over the run's budget: set trainer.max_steps or "
            "trainer.max_epochs"
        )
    output = check_combination(model, task, training)
    check_diagnostics(diagnostics, model, output)
    return RunPlan(
        task=task,
        model=model,
        training=training,
        decoding=decoding,
        diagnostics=diagnostics,
        callbacks=callbacks,
        runtime=runtime,
        trainer=trainer,
        output=output,
    )


SEED_LIMIT = 2**32  # what numpy, and so Lightning's seed_everything, accept


def check_seed(key: str, value: Any) -> None:
    """A seed is an integer in [0, 2**32 - 1]."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < SEED_LIMIT:
        raise ConfigError(f"{key} must be an integer from 0 to {SEED_LIMIT - 1}; got {value!r}")


def config_as_run(cfg: DictConfig, plan: RunPlan) -> DictConfig:
    """The run's config with every group as validated, defaults filled in (config.yaml,
    results.json and every checkpoint hold this)."""
    config = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(config, dict)
    for group in ("task", "model", "training", "decoding", "diagnostics", "callbacks", "runtime"):
        config[group] = asdict(getattr(plan, group))
    return OmegaConf.create(config)


def checkpoint_metadata(config: DictConfig, spec: TaskSpec) -> dict[str, Any]:
    """What a checkpoint carries besides weights: the config, the task's tokenizers and
    vocabularies, and its output length ratio, as plain containers and tensors."""
    metadata: dict[str, Any] = {
        "config": OmegaConf.to_container(config),
        "length_ratio": spec.length_ratio,
    }
    for side in ("source", "target"):
        vocab, tokenizer = getattr(spec, f"{side}_vocab"), getattr(spec, f"{side}_tokenizer")
        if vocab is not None:
            metadata[f"{side}_vocab"] = vocab.to_list()
        if tokenizer is not None:
            metadata[f"{side}_tokenizer"] = tokenizer.state()
    return metadata


def checkpoint_step(path: str) -> int | None:
    """The optimizer step at which a checkpoint was written."""
    if not path:
        return None
    return int(torch.load(path, map_location="cpu", weights_only=True, mmap=True)["global_step"])


def run(cfg: DictConfig, run_dir: Path, resume: ResumePoint | None = None) -> dict[str, Any]:
    """Train and test one configuration (continuing from ``resume`` if given) in ``run_dir``,
    which this process owns meanwhile (seqlab.engine.run_dir); return what was written to
    results.json. The config is validated before anything is read or written."""
    started = time.perf_counter()
    quiet_library_chatter()
    plan = plan_run(cfg)
    if rank_zero_only.rank != 0:  # under DDP, the first process owns the dir and writes
        return train_and_test(cfg, plan, Path(run_dir), resume, started)
    with owned_run_dir(Path(run_dir), resuming=resume is not None):
        if resume is not None:
            begin_resume(Path(run_dir), resume)
        try:
            return train_and_test(cfg, plan, Path(run_dir), resume, started)
        except (NonFiniteLossError, Preempted):
            raise  # recorded as diverged by train_and_test; a preempted run resumes
        except Exception as error:  # a failed run is recorded too, for summaries
            started_here = (Path(run_dir) / "config.yaml").exists()
            if started_here and not (Path(run_dir) / RESULTS_FILE).exists():
                write_results(Path(run_dir), failure_record(composed(cfg), error))
            raise


def composed(cfg: DictConfig) -> dict[str, Any]:
    """The composed config as plain containers, resolved where it can be."""
    try:
        return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    except Exception:  # an interpolation that cannot be resolved may be why the job failed
        return OmegaConf.to_container(cfg, resolve=False)  # type: ignore[return-value]


def train_and_test(
    cfg: DictConfig, plan: RunPlan, run_dir: Path, resume: ResumePoint | None, started: float
) -> dict[str, Any]:
    """The body of :func:`run`, once the config is valid and the run dir is this process's."""
    first = rank_zero_only.rank == 0  # under DDP, only the first process writes and reports
    config = config_as_run(cfg, plan)
    local_processes, all_processes = processes(plan.trainer)
    if all_processes > 1:
        check_ddp_launch()
    runtime_report = configure_runtime(plan.runtime, local_processes)

    L.seed_everything(cfg.seed, workers=True, verbose=False)
    datamodule = plan.task.build(plan.output)
    if hasattr(datamodule, "use_training"):  # a language model's windows (task=lm)
        datamodule.use_training(plan.training)
    datamodule.setup("fit")
    spec: TaskSpec = datamodule.spec
    check_spec(spec, plan.training)
    # batches per rank: DDP shares each epoch's batches out (seqlab.data.batching)
    per_rank = -(-len(datamodule.train_dataloader()) // all_processes)
    check_validation_interval(plan.trainer, per_rank)
    check_monitored_metrics(plan.callbacks, OBJECTIVES[spec.output].validation_metrics(spec))
    model = plan.model.build(spec)
    pretrained = None if resume else load_pretrained(plan.model, model, spec)
    objective = build_objective(
        model, plan.training, spec, plan.decoding, plan.diagnostics.attention_maps
    )
    objective.checkpoint_metadata = checkpoint_metadata(config, spec)
    if hasattr(datamodule, "labels"):  # classes read from the data: evaluation needs them
        objective.checkpoint_metadata["label_names"] = list(datamodule.label_names())
    n_params = count_parameters(model)
    if first:
        print(
            f"seqlab: model={plan.model.name} task={spec.name} parameters={n_params:,}"
            f"{spec.vocab_note()} run_dir={run_dir}",
            flush=True,
        )
        if pretrained and resume is None:
            print(f"seqlab: {pretrained}")
        if resume is not None:
            print(f"seqlab: resuming from {resume.checkpoint} (optimizer step {resume.step})")
        run_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(config, run_dir / "config.yaml")

    objective.monitor = (plan.callbacks.monitor, plan.callbacks.mode)
    bar = progress_bar_enabled(plan.trainer.get("enable_progress_bar", "auto"))
    callbacks = build_callbacks(plan.callbacks, spec, run_dir, progress_bar=bar)
    if plan.diagnostics.gradient_flow:
        callbacks.all.append(GradientFlow(plan.diagnostics, run_dir))
    tensorboard, csv_logger = build_loggers(
        run_dir, resume and resume.step, resume and resume.csv_rows
    )
    callbacks.all.append(KeepGeneratorsAcrossDdpSetup())  # last: the states of just before fit
    trainer = build_trainer(plan.trainer, run_dir, callbacks.all, [tensorboard, csv_logger])
    with callbacks.preemption.installed():
        try:
            trainer.fit(
                objective,
                datamodule=datamodule,
                ckpt_path=resume and resume.checkpoint,
                weights_only=True,
            )
        except NonFiniteLossError as error:
            # a result, not a lost run: no test metrics, the step and the message
            diverged = run_record("diverged", plan, cfg, n_params, trainer, started)
            diverged["error"] = str(error)
            if first:
                write_results(run_dir, {**diverged, "config": OmegaConf.to_container(config)})
            raise
    steps_trained = trainer.global_step
    best = callbacks.checkpoint.best_model_path
    tested = trainer.test(
        objective, datamodule=datamodule, ckpt_path=best or None, verbose=False, weights_only=True
    )
    test_metrics = tested[0] if tested else {}  # none with trainer.limit_test_batches=0

    metrics = {k: float(v) for k, v in sorted(test_metrics.items())}
    results: dict[str, Any] = {
        **run_record("completed", plan, cfg, n_params, trainer, started, steps_trained),
        "train_tokens_per_s": round(callbacks.throughput.tokens_per_second, 1),
        "best_checkpoint_step": checkpoint_step(best),
        "monitor": {
            "metric": plan.callbacks.monitor,
            "mode": plan.callbacks.mode,
            "best": _score(callbacks.checkpoint.best_model_score),
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "best_checkpoint": best or None,
        "last_checkpoint": callbacks.checkpoint.last_model_path or None,
        "resumed_from": None if resume is None else f"{resume.checkpoint} (step {resume.step})",
        "runtime": runtime_report,
        "plot_metrics": spec.plot_metrics,
        **metrics,
        "config": OmegaConf.to_container(config),
    }
    report = getattr(objective, "test_report", None)
    if report:
        results.update({k: v for k, v in report.items() if k != "hypotheses"})
    if all_processes > 1:
        results["processes"] = all_processes
    if not first:
        return results
    if report:
        write_hypotheses(run_dir / "test_hypotheses.tsv", report["hypotheses"])
    write_results(run_dir, results)
    hparams = flatten({group: results["config"][group] for group in ("model", "task", "training")})
    tensorboard.log_hyperparams({**hparams, "seed": cfg.seed}, metrics=metrics)
    tensorboard.finalize("success")  # every event on disk before the run is reported done
    print(f"\nseqlab: run dir {run_dir}")
    if not tested:
        print("  not tested: trainer.limit_test_batches=0")
    for name, value in metrics.items():
        print(f"  {name:<28} {value:.4f}")
    print(
        f"  {'parameters':<28} {n_params:,}\n  {'train_tokens_per_s':<28} "
        f"{results['train_tokens_per_s']:,.0f}\n  {'wall_time_s':<28} {results['wall_time_s']:.1f}"
    )
    return results


def _score(value: Any) -> float | None:
    return None if value is None else float(value)


def sweep_objective(results: dict[str, Any] | None) -> float | None:
    """What ``main`` returns to a sweeper such as Optuna, which minimises by default: the best
    value of the monitored validation metric, negated when higher is better
    (``callbacks.monitor_mode`` max); None for a run that diverged, which Optuna records as a
    failed trial and goes on."""
    if not results or results.get("status") != "completed":
        return None
    monitor = results.get("monitor") or {}
    best = monitor.get("best")
    if best is None:
        return None
    return -best if monitor.get("mode") == "max" else best


def run_record(
    status: str,
    plan: RunPlan,
    cfg: DictConfig,
    n_params: int,
    trainer: L.Trainer,
    started: float,
    steps: int | None = None,
) -> dict[str, Any]:
    """The head of results.json, for a completed run and a diverged one alike: ``status``
    (completed | diverged), model, task, seed, size, time, and the training done (``steps``:
    the optimizer steps of training, which trainer.test does not change but reports apart)."""
    return {
        "status": status,
        "model": plan.model.name,
        "task": plan.task.name,
        "seed": int(cfg.seed),
        "parameters": n_params,
        "wall_time_s": round(time.perf_counter() - started, 2),
        "optimizer_steps": trainer.global_step if steps is None else steps,
        "epochs": trainer.current_epoch,
    }


@contextmanager
def sweep_job_goes_on(
    in_sweep: bool, cfg: DictConfig | None = None, job_dir: Path | None = None
) -> Iterator[None]:
    """In a multirun, a job that diverged, was refused or failed is a result recorded in its
    results.json (status diverged or failed), not the end of the sweep: say so and let the
    sweep go on; the sweep's summary lists it. A single run still fails. A job refused before
    it started (an invalid model x task pair) gets its record here, unless its dir holds
    another run."""
    try:
        yield
    except NonFiniteLossError as error:
        if not in_sweep:
            raise
        print(
            f"seqlab: {error.kind}: {error}\nseqlab: this sweep job is recorded as diverged "
            "(results.json status); the sweep goes on",
            file=sys.stderr,
        )
    except Exception as error:
        if not in_sweep:
            raise
        if isinstance(error, SeqlabError):
            print(f"seqlab: {error.kind}: {error}", file=sys.stderr)
        else:
            traceback.print_exc()
            print(f"seqlab: {REPORT}", file=sys.stderr)
        holds_a_run = job_dir is None or any(
            (job_dir / name).exists() for name in (RESULTS_FILE, "config.yaml", "checkpoints")
        )
        if not holds_a_run and cfg is not None:
            write_results(job_dir, failure_record(composed(cfg), error))
        print(
            "seqlab: this sweep job failed (recorded in its results.json, status failed); the "
            "sweep goes on",
            file=sys.stderr,
        )


def resume_run(run_dir: Path, overrides: list[str]) -> dict[str, Any]:
    """Continue the run in ``run_dir`` from its newest checkpoint with its own config (the
    ``overrides`` may only lengthen the budget), in the same directory and logs."""
    if not Path(run_dir).is_dir():
        raise ConfigError(f"resume={run_dir}: no such directory")
    if rank_zero_only.rank != 0:  # under DDP, the first process owns the dir
        cfg, point = prepare_resume(Path(run_dir), overrides)
        return run(cfg, Path(run_dir), resume=point)
    with owned_run_dir(Path(run_dir), resuming=True):  # before its checkpoints are read
        cfg, point = prepare_resume(Path(run_dir), overrides)
        return run(cfg, Path(run_dir), resume=point)
