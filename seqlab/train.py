"""Train one model on one task: ``python -m seqlab.train model=lstm task=copy``.

Config -> validate -> task data -> model -> objective -> Trainer -> fit -> test on the best
checkpoint -> results.json, all inside the run's own directory.
"""

from __future__ import annotations

import logging
import os
import resource
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import hydra
import lightning as L
from hydra.core.hydra_config import HydraConfig
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from omegaconf import DictConfig, OmegaConf

from seqlab.callbacks import FlushStepScalarsOnError, TrainingThroughput
from seqlab.config import (
    ConfigError,
    ModelConfig,
    TrainingConfig,
    check_single_device,
    to_dataclass,
)
from seqlab.models import count_parameters
from seqlab.objectives.base import NonFiniteLossError
from seqlab.objectives.seq2seq import DecodingConfig
from seqlab.registry import (
    build_datamodule,
    build_model,
    build_objective,
    check_combination,
    vocab_sizes_note,
)
from seqlab.results import RESULTS_FILE, flatten, write_results
from seqlab.runtime import configure_runtime

# Known-harmless library chatter; the run dir is ours alone (guard_run_dir).
warnings.filterwarnings("ignore", message=".*exists and is not empty.*")
warnings.filterwarnings("ignore", message=".*LeafSpec.*")
warnings.filterwarnings("ignore", message=".*does not have many workers.*")


class _DropAdverts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Tip: For seamless cloud logging" not in str(record.msg)


logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_DropAdverts())

CONFIG_DIR = str(Path(__file__).resolve().parents[1] / "configs")


def guard_run_dir(run_dir: Path) -> None:
    """Refuse to write into a directory that already holds a finished or started run."""
    for name in (RESULTS_FILE, "checkpoints"):
        if (run_dir / name).exists():
            raise ConfigError(
                f"{run_dir} already holds a run ({name} exists); seqlab never overwrites a "
                f"previous run. Choose another hydra.run.dir or leave it at its default."
            )


def progress_bar_enabled(setting: Any) -> bool:
    """``auto``: on for an interactive terminal, off under CI=true or when output is piped."""
    if setting == "auto":
        return os.environ.get("CI", "").lower() != "true" and sys.stderr.isatty()
    return bool(setting)


def build_trainer(cfg: DictConfig, run_dir: Path) -> tuple[L.Trainer, dict[str, Any]]:
    checkpoint = ModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        filename="best-{epoch}-{step}",
        monitor=cfg.task.monitor,
        mode=cfg.task.monitor_mode,
        save_last=True,
        save_top_k=1,
    )
    throughput = TrainingThroughput()
    callbacks: list[L.Callback] = [checkpoint, throughput, FlushStepScalarsOnError()]
    stop = cfg.task.get("stop_when")
    if cfg.model.kind == "seq2seq" and "seq2seq" in cfg.task:  # e.g. copy's seq2seq form
        stop = cfg.task.seq2seq.get("stop_when")
    if stop:
        callbacks.append(
            EarlyStopping(
                monitor=stop.metric,
                mode="max",
                stopping_threshold=stop.at_least,
                patience=10**9,
                check_on_train_epoch_end=False,
            )
        )
    loggers = [
        TensorBoardLogger(
            save_dir=run_dir, name="tensorboard", version="", default_hp_metric=False
        ),
        CSVLogger(save_dir=run_dir, name="", version=""),
    ]
    options: dict[str, Any] = OmegaConf.to_container(cfg.trainer, resolve=True)  # type: ignore[assignment]
    options["enable_progress_bar"] = progress_bar_enabled(options.get("enable_progress_bar"))
    trainer = L.Trainer(default_root_dir=run_dir, callbacks=callbacks, logger=loggers, **options)
    return trainer, {"checkpoint": checkpoint, "throughput": throughput, "tensorboard": loggers[0]}


def checkpoint_extra(cfg: DictConfig, datamodule: Any) -> dict[str, Any]:
    """What a checkpoint carries besides weights: the config and (seq2seq) vocabularies."""
    extra: dict[str, Any] = {"config": OmegaConf.to_container(cfg, resolve=True)}
    for key in ("source_vocab", "target_vocab"):
        vocab = getattr(datamodule, key, None)
        if vocab is not None:
            extra[key] = vocab.to_list()
    return extra


def write_hypotheses(path: Path, rows: list[tuple[int, str, str, str]]) -> None:
    """index, source, reference, hypothesis per line (tab-separated, with a header)."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write("index\tsource\treference\thypothesis\n")
        for row in rows:
            handle.write("\t".join(str(v) for v in row) + "\n")


def run(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Train and test one configuration; return what was written to results.json."""
    started = time.perf_counter()
    run_dir = Path(run_dir)
    guard_run_dir(run_dir)
    model_cfg = to_dataclass(ModelConfig, cfg.model, "model")
    training = to_dataclass(TrainingConfig, cfg.training, "training")
    check_combination(model_cfg, training, cfg.task.name)
    check_single_device(cfg.trainer)
    runtime_report = configure_runtime(cfg.get("runtime", {}))

    L.seed_everything(cfg.seed, workers=True, verbose=False)
    datamodule = build_datamodule(cfg.task, model_cfg)
    datamodule.setup("fit")
    spec = datamodule.spec
    model = build_model(model_cfg, spec)
    decoding = to_dataclass(DecodingConfig, cfg.get("decoding", {}), "decoding")
    objective = build_objective(model, training, datamodule, decoding)
    objective.seqlab_checkpoint_extra = checkpoint_extra(cfg, datamodule)
    n_params = count_parameters(model)
    print(
        f"seqlab: model={model_cfg.name} task={spec.name} parameters={n_params:,}"
        f"{vocab_sizes_note(datamodule)} run_dir={run_dir}",
        flush=True,
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, run_dir / "config.yaml", resolve=True)

    trainer, parts = build_trainer(cfg, run_dir)
    trainer.fit(objective, datamodule=datamodule)
    steps_trained, epochs_trained = objective.optimizer_steps, trainer.current_epoch
    best = parts["checkpoint"].best_model_path
    test_metrics = trainer.test(
        objective, datamodule=datamodule, ckpt_path=best or None, verbose=False
    )[0]
    wall_time = time.perf_counter() - started

    metrics = {k: float(v) for k, v in sorted(test_metrics.items())}
    results: dict[str, Any] = {
        "model": model_cfg.name,
        "task": spec.name,
        "seed": int(cfg.seed),
        "parameters": n_params,
        "wall_time_s": round(wall_time, 2),
        "train_tokens_per_s": round(parts["throughput"].tokens_per_second, 1),
        "optimizer_steps": steps_trained,
        "epochs": epochs_trained,
        "best_checkpoint_step": objective.optimizer_steps,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "best_checkpoint": best or None,
        "last_checkpoint": parts["checkpoint"].last_model_path or None,
        "runtime": runtime_report,
        **metrics,
        "config": OmegaConf.to_container(cfg, resolve=True),
    }
    report = getattr(objective, "test_report", None)
    if report:
        results.update({k: v for k, v in report.items() if k != "hypotheses"})
        write_hypotheses(run_dir / "test_hypotheses.tsv", report["hypotheses"])
    write_results(run_dir, results)
    hparams = flatten(
        {
            "model": results["config"]["model"],
            "task": results["config"]["task"],
            "training": results["config"]["training"],
            "seed": cfg.seed,
        }
    )
    parts["tensorboard"].log_hyperparams(hparams, metrics=metrics)
    print(f"\nseqlab: run dir {run_dir}")
    for name, value in metrics.items():
        print(f"  {name:<28} {value:.4f}")
    print(
        f"  {'parameters':<28} {n_params:,}\n  {'train_tokens_per_s':<28} "
        f"{results['train_tokens_per_s']:,.0f}\n  {'wall_time_s':<28} {wall_time:.1f}"
    )
    return results


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train")
def main(cfg: DictConfig) -> None:
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        run(cfg, run_dir)
    except (ConfigError, NonFiniteLossError) as error:
        kind = "configuration error" if isinstance(error, ConfigError) else "training stopped"
        print(f"seqlab: {kind}: {error}", file=sys.stderr)
        if isinstance(error, NonFiniteLossError):
            print(f"seqlab: run dir (checkpoints kept): {run_dir}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
