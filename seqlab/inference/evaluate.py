"""Evaluate a checkpoint on a task split: ``python -m seqlab.evaluate ckpt_path=PATH``.

Options (key=value): split=test|val, decoding.beam_size=5, decoding.length_penalty=0.6,
decoding.bucket_width=10, out=DIR. The task is rebuilt from the checkpoint's config (synthetic
data regenerates from its seed; TSV files are read again) with the checkpoint's vocabularies.
Writes results.json (metrics, BLEU by length) and, for seq2seq, test_hypotheses.tsv into
``out`` (default: <run dir>/eval/<time>), never over an earlier evaluation.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from seqlab.config.compatibility import choose_output
from seqlab.config.schema import build_config
from seqlab.config.training import TrainingConfig
from seqlab.errors import ConfigError
from seqlab.inference.checkpoints import read_checkpoint, restore_model
from seqlab.models.search import DecodingConfig
from seqlab.reporting.results import write_hypotheses, write_results

USAGE = (
    "usage: python -m seqlab.evaluate ckpt_path=PATH [split=test] [decoding.beam_size=5] [out=DIR]"
)


def parse_args(argv: list[str], required: tuple[str, ...]) -> DictConfig:
    """key=value arguments; the ``required`` keys must be given."""
    bad = [a for a in argv if "=" not in a]
    if bad:
        raise ConfigError(f"arguments are key=value; got {' '.join(bad)}")
    args = OmegaConf.from_dotlist(argv)
    for key in required:
        if args.get(key) in (None, ""):
            raise ConfigError(f"{key}=... is required")
    return args


def decoding_options(checkpoint_config: DictConfig, args: DictConfig) -> DecodingConfig:
    """The checkpoint's decoding options with the command line's on top."""
    merged = OmegaConf.merge(checkpoint_config.get("decoding", {}), args.get("decoding", {}))
    return build_config(merged, "decoding", DecodingConfig)


def evaluate(argv: list[str]) -> dict[str, Any]:
    import lightning as L

    from seqlab.objectives import build_objective

    args = parse_args(argv, ("ckpt_path",))
    if args.get("out") and Path(args.out).expanduser().exists() and not Path(args.out).is_dir():
        raise ConfigError(f"out={args.out} is a file; out= names a directory for the results")
    checkpoint = read_checkpoint(args.ckpt_path)
    cfg = checkpoint.config
    split = args.get("split", "test")
    if split not in ("test", "val"):
        raise ConfigError(f"split must be test or val, got {split}")
    decoding = decoding_options(cfg, args)
    output = choose_output(checkpoint.model_config, checkpoint.task_config)
    datamodule = checkpoint.task_config.build(output)
    checkpoint.restore_text(datamodule, split)  # the training file is not needed
    datamodule.setup("test")
    raw_text = getattr(datamodule, "raw_text", None)
    if split == "val" and raw_text:  # the objective's test phase scores against "test"
        raw_text["test"] = raw_text["val"]
    spec = datamodule.spec
    model = restore_model(checkpoint, spec)
    training = build_config(cfg.training, "training", TrainingConfig)
    objective = build_objective(model, training, spec, decoding)
    default_out = checkpoint.path.parent.parent / "eval" / time.strftime("%Y-%m-%d_%H-%M-%S")
    out = Path(args.get("out") or default_out)
    if (out / "results.json").exists():
        raise ConfigError(f"{out} already holds an evaluation; choose another out=")
    out.mkdir(parents=True, exist_ok=True)
    trainer = L.Trainer(
        accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False
    )
    loader = datamodule.test_dataloader() if split == "test" else datamodule.val_dataloader()
    metrics = trainer.test(objective, dataloaders=loader, verbose=False)[0]
    results: dict[str, Any] = {
        "checkpoint": str(checkpoint.path),
        "split": split,
        **{k: float(v) for k, v in sorted(metrics.items())},
    }
    report = getattr(objective, "test_report", None)
    if report:
        results.update({k: v for k, v in report.items() if k != "hypotheses"})
        write_hypotheses(out / "test_hypotheses.tsv", report["hypotheses"])
    write_results(out, results)
    print(f"seqlab.evaluate: {checkpoint.path} on {split} -> {out}")
    for key, value in results.items():
        if isinstance(value, float):
            print(f"  {key:<28} {value:.4f}")
    return results
