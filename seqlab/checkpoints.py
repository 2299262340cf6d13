"""Load a seqlab checkpoint back into a plain model, its config and vocabularies."""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from seqlab.config import ConfigError, ModelConfig, to_dataclass
from seqlab.tasks.vocab import Vocab


class CheckpointError(ConfigError):
    """A checkpoint path that does not exist or is not a seqlab checkpoint."""


@dataclass
class LoadedCheckpoint:
    path: Path
    config: DictConfig
    model_config: ModelConfig
    state_dict: dict[str, torch.Tensor]
    source_vocab: Vocab | None
    target_vocab: Vocab | None


def read_checkpoint(path: str | Path) -> LoadedCheckpoint:
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(
            f"checkpoint {path} does not exist. Checkpoints are in <run dir>/checkpoints/ "
            f"(best-*.ckpt, last.ckpt); results.json names the best one."
        )
    try:
        raw: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=False)
    except (
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        RuntimeError,
        EOFError,
        AttributeError,
        ValueError,
    ) as error:
        raise CheckpointError(f"{path} is not a seqlab checkpoint (unreadable: {error})") from None
    if not isinstance(raw, dict) or "seqlab" not in raw or "state_dict" not in raw:
        raise CheckpointError(
            f"{path} is not a seqlab checkpoint (it has no seqlab metadata); give a .ckpt "
            f"written by python -m seqlab.train"
        )
    extra = raw["seqlab"]
    config = OmegaConf.create(extra["config"])
    prefix = "model."
    state = {k[len(prefix) :]: v for k, v in raw["state_dict"].items() if k.startswith(prefix)}
    vocabs = [
        Vocab.from_list(extra[k]) if k in extra else None for k in ("source_vocab", "target_vocab")
    ]
    return LoadedCheckpoint(
        path, config, to_dataclass(ModelConfig, config.model, "model"), state, vocabs[0], vocabs[1]
    )


def restore_model(checkpoint: LoadedCheckpoint, spec: Any) -> nn.Module:
    from seqlab.registry import build_model

    model = build_model(checkpoint.model_config, spec)
    model.load_state_dict(checkpoint.state_dict)
    model.eval()
    return model
