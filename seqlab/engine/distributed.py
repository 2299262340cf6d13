"""Multi-process (DDP) training: what seqlab adds to Lightning's DDP strategy.

* The training samplers shard the data themselves (seqlab.data.batching); evaluation splits
  are not sharded, so every rank computes the exact metrics of the whole split.
* Lightning re-seeds every generator when a DDP process group is set up
  (``reset_seed`` in ``DDPStrategy.setup_distributed``). :class:`KeepGeneratorsAcrossDdpSetup`
  puts back the generator states from before ``trainer.fit``, so a DDP run draws the same
  epoch orders and dropout masks as a one-process run with the same seed: two processes with
  batch B take the optimizer steps of one process with batch 2B.
* Only rank 0 writes results, summaries and figures (seqlab.engine.run); the loggers write from
  rank 0 only (Lightning's rank_zero_only).
"""

from __future__ import annotations

import os

import lightning as L
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from lightning.fabric.plugins.environments import SLURMEnvironment

from seqlab.errors import ConfigError
from seqlab.rng import rng_states, set_rng_states


class KeepGeneratorsAcrossDdpSetup(L.Callback):
    """Under DDP, restore at ``setup`` the generator states captured when the callback was
    made (just before ``trainer.fit``): Lightning re-seeded them while setting up the process
    group. One process: nothing happens."""

    def __init__(self) -> None:
        self.states = rng_states()

    def setup(self, trainer: L.Trainer, module: L.LightningModule, stage: str) -> None:
        if stage == "fit" and trainer.world_size > 1:
            set_rng_states(self.states)


def check_ddp_launch() -> None:
    """Multi-process (DDP) training starts from the command line: Lightning's launcher runs
    the command again for every other rank (or Slurm starts the ranks). A run called from
    Python (tests, notebooks) has no command line to run again."""
    if SLURMEnvironment.detect() or "LOCAL_RANK" in os.environ:
        return  # the ranks are already started
    if not HydraConfig.initialized():
        raise ConfigError(
            "trainer.devices > 1 (DDP) starts from the command line: run "
            "`python -m seqlab.train ... trainer.devices=N`, or train with trainer.devices=1"
        )
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        raise ConfigError(
            "trainer.devices > 1 (DDP) inside a multirun (-m) is not supported: Lightning's "
            "DDP launcher starts the other ranks by running the command line again, which "
            "would start the whole sweep in every rank. Run each configuration as its own "
            "command, or sweep with hydra/launcher=slurm, where Slurm starts every job's "
            "ranks (tasks_per_node = trainer.devices)"
        )
