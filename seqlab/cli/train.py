"""``python -m seqlab.train model=lstm task=copy``: one run, a sweep (``-m``), or a resumed run
(``resume=RUN_DIR``). Hydra composes configs/train.yaml; seqlab.engine.run does the work."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig

from seqlab.engine.resume import newest_checkpoint, prepare_resume
from seqlab.engine.run import (
    CONFIG_DIR,
    plan_run,
    quiet_library_chatter,
    resume_run,
    run,
    sweep_job_goes_on,
    sweep_objective,
)
from seqlab.engine.run_config import register_schemas
from seqlab.engine.run_dir import claim_run_dir, guard_sweep_dir
from seqlab.engine.slurm import requeued_under_slurm
from seqlab.errors import ConfigError, error_boundary
from seqlab.reporting.summary import SweepSummaryCallback


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train")
def hydra_main(cfg: DictConfig) -> float | None:
    """One job: returns :func:`sweep_objective` of the run (for sweepers such as Optuna)."""
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    results = None
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    with error_boundary("seqlab"), sweep_job_goes_on(in_sweep, cfg, run_dir):
        if cfg.resume:
            results = resume_run(Path(cfg.resume), list(hydra_cfg.overrides.task))
        elif requeued_under_slurm() and newest_checkpoint(run_dir) is not None:
            results = resume_run(run_dir, [])  # Slurm restarted this job: continue its run
        else:
            results = run(cfg, run_dir)
    return sweep_objective(results)


# Hydra plugins (the ``sweeps`` extra) and the sweeper / launcher choices that need them
PLUGINS = {
    ("sweeper", "optuna"): "hydra_plugins.hydra_optuna_sweeper",
    ("launcher", "joblib"): "hydra_plugins.hydra_joblib_launcher",
    ("launcher", "slurm"): "hydra_plugins.hydra_submitit_launcher",
    ("launcher", "submitit_slurm"): "hydra_plugins.hydra_submitit_launcher",
    ("launcher", "submitit_local"): "hydra_plugins.hydra_submitit_launcher",
}
SWEEPS_INSTALL = 'pip install "seqlab[sweeps]" (or, in a clone: pip install -e ".[sweeps]")'


def hydra_choices(argv: list[str]) -> list[tuple[str, str]]:
    """The (hydra group, choice) pairs the command line picks, directly
    (``hydra/sweeper=optuna``) or through an experiment's defaults list."""
    choices = []
    for arg in argv:
        key, _, value = arg.lstrip("+~").partition("=")
        if key in ("hydra/sweeper", "hydra/launcher"):
            choices.append((key.split("/")[1], value))
        elif key == "experiment" and value:
            path = Path(CONFIG_DIR) / "experiment" / f"{value}.yaml"
            text = path.read_text() if path.is_file() else ""
            for group in ("sweeper", "launcher"):
                for line in text.splitlines():
                    if line.strip().startswith(f"- override /hydra/{group}:"):
                        choices.append((group, line.split(":", 1)[1].strip()))
    return choices


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it); a missing parent package
    (no Hydra plugin at all: no ``hydra_plugins``) counts as not installed."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def check_sweep_plugins(argv: list[str]) -> str | None:
    """A message naming the install command when a chosen sweeper or launcher's plugin is
    not installed (a plain ``pip install seqlab`` leaves them out); None when all are."""
    for group, choice in hydra_choices(argv):
        module = PLUGINS.get((group, choice))
        if module and not installed(module):
            return (
                f"hydra/{group}={choice} needs a Hydra plugin that is not installed "
                f"({module.split('.')[1].replace('_', '-')}); install the sweep plugins with "
                f"{SWEEPS_INSTALL}"
            )
    return None


def main() -> None:
    """The command line: the schemas go into Hydra's ConfigStore before it composes."""
    missing = check_sweep_plugins(sys.argv[1:])
    if missing:
        print(f"seqlab: configuration error: {missing}", file=sys.stderr)
        raise SystemExit(2)
    register_schemas()
    quiet_library_chatter()
    with error_boundary("seqlab"):
        check_before_hydra(sys.argv[1:])
    hydra_main()
    failed = SweepSummaryCallback.failed_jobs
    if failed:
        print(f"seqlab: {failed} sweep job(s) failed (listed above)", file=sys.stderr)
        raise SystemExit(1)


def last_override(argv: list[str], key: str) -> str | None:
    """The value the command line gives ``key`` (the last one, as Hydra takes it)."""
    value = None
    for arg in argv:
        name, sep, given = arg.lstrip("+").partition("=")
        if sep and name == key:
            value = given
    return value


def check_before_hydra(argv: list[str]) -> None:
    """What must be refused before Hydra writes its record (.hydra/, the log) into a run dir.
    A single run's config is composed and validated here (a refused config leaves no dir
    behind); the run dir the command line names (hydra.run.dir=, resume=) is claimed here for
    the life of the process, refused if it holds a run or another process owns it; a resume
    is checked whole (its config.yaml, checkpoints, budget). A sweep dir the command line
    names is refused if it already holds a sweep (each job is checked in its own dir)."""
    if rank_zero_only.rank != 0:  # DDP's other ranks: the first one owns the dir
        return
    if "-m" in argv or "--multirun" in argv:
        sweep_dir = last_override(argv, "hydra.sweep.dir")
        if sweep_dir and "${" not in sweep_dir:
            guard_sweep_dir(Path(sweep_dir))
        return
    if any(arg.startswith("-") for arg in argv):  # --cfg, --help, ...: Hydra's own
        return
    resume = last_override(argv, "resume")
    if resume and resume not in ("null", "None") and "${" not in resume:
        if not Path(resume).is_dir():
            raise ConfigError(f"resume={resume}: no such directory")
        claim_run_dir(Path(resume), resuming=True)
        overrides = [a for a in argv if not a.lstrip("+~").startswith(("hydra.", "hydra/"))]
        plan_run(prepare_resume(Path(resume), overrides)[0])
        return
    cfg = composed_or_none(argv)
    if cfg is not None:
        plan_run(cfg)
    run_dir = last_override(argv, "hydra.run.dir")
    if run_dir and "${" not in run_dir:
        claim_run_dir(Path(run_dir), resuming=False)


def composed_or_none(argv: list[str]) -> DictConfig | None:
    """The config Hydra will compose from ``argv``, or None when composing fails (Hydra then
    reports it in its own words)."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
            return compose(config_name="train", overrides=argv)
    except (HydraException, OmegaConfBaseException, ValueError):
        return None
