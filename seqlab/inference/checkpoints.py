"""Load a seqlab checkpoint back into a plain model, its config and vocabularies.

Checkpoints are read with ``torch.load(..., weights_only=True)``: what seqlab stores beside
the weights (the run's config, vocabularies) is plain containers, and a file that would need
arbitrary pickled objects is refused without running any of its code.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from seqlab.config.schema import ModelConfig, TaskConfig, instantiate_config
from seqlab.config.targets import check_targets
from seqlab.config.upgrade import upgrade_config
from seqlab.errors import CheckpointError, ConfigError
from seqlab.spec import TaskSpec
from seqlab.text.tokenizers import Tokenizer, tokenizer_from_state
from seqlab.text.vocab import Vocab


@dataclass
class LoadedCheckpoint:
    path: Path
    config: DictConfig
    model_config: ModelConfig
    task_config: TaskConfig
    state_dict: dict[str, torch.Tensor]
    source_vocab: Vocab | None
    target_vocab: Vocab | None
    source_tokenizer: Tokenizer | None = None
    target_tokenizer: Tokenizer | None = None
    length_ratio: float = 2.0  # checkpoints from before it was saved decoded with 2
    label_names: list[str] | None = None  # the classes of a task that reads labels from files

    def restore_text(self, datamodule: Any, split: str | None = None) -> None:
        """Give a task's data module the checkpoint's tokenizers, vocabularies and class
        names, so that it encodes text exactly as in training (before its ``setup()``).
        With ``split`` (val or test), a task that reads files reads only that one when the
        checkpoint holds all it learnt from the training file."""
        if self.label_names is not None and hasattr(datamodule, "labels"):
            datamodule.labels = list(self.label_names)
        if split is not None and self.source_vocab is not None:
            classification = hasattr(datamodule, "labels")
            if not classification or self.label_names is not None:
                datamodule.needed_splits = (split,)
        for side in ("source", "target"):
            for kind in ("vocab", "tokenizer"):
                value = getattr(self, f"{side}_{kind}")
                if value is not None and hasattr(datamodule, f"{side}_{kind}"):
                    setattr(datamodule, f"{side}_{kind}", value)
        if hasattr(datamodule, "length_ratio"):
            datamodule.length_ratio = self.length_ratio


def read_checkpoint(path: str | Path) -> LoadedCheckpoint:
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(
            f"checkpoint {path} does not exist. Checkpoints are in <run dir>/checkpoints/ "
            f"(best-*.ckpt, last.ckpt); results.json names the best one."
        )
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path} is not a seqlab checkpoint (not a file torch.save wrote)")
    try:
        raw: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        detail = f" (it asks for {found.group(1)})" if found else ""
        raise CheckpointError(
            f"{path} is refused: it holds pickled objects other than tensors and plain "
            f"containers, which seqlab never writes and will not run{detail}"
        ) from None
    except (zipfile.BadZipFile, RuntimeError, EOFError, AttributeError, ValueError) as error:
        raise CheckpointError(f"{path} is not a seqlab checkpoint (unreadable: {error})") from None
    if not isinstance(raw, dict) or "seqlab" not in raw or "state_dict" not in raw:
        raise CheckpointError(
            f"{path} is not a seqlab checkpoint (it has no seqlab metadata); give a .ckpt "
            f"written by python -m seqlab.train"
        )
    extra = raw["seqlab"]
    try:
        upgraded = upgrade_config(extra["config"])  # renames moved classes, imports nothing
        check_targets(upgraded)  # every _target_ by name, before anything is imported
        config = OmegaConf.create(upgraded)
        task = instantiate_config(config.task, "task", TaskConfig)
        model_config = instantiate_config(config.model, "model", ModelConfig)
    except (ConfigError, KeyError, TypeError, AttributeError) as error:
        raise CheckpointError(
            f"{path} is refused: its saved config is not usable ({error})"
        ) from None
    prefix = "model."
    try:
        state = {k[len(prefix) :]: v for k, v in raw["state_dict"].items() if k.startswith(prefix)}
        vocabs = [
            Vocab.from_list(extra[k]) if k in extra else None
            for k in ("source_vocab", "target_vocab")
        ]
        tokenizers = [_saved_tokenizer(extra, side, task, vocabs) for side in ("source", "target")]
        label_names = extra.get("label_names")
        if label_names is not None and not all(isinstance(n, str) for n in label_names):
            raise TypeError("label_names must be strings")
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise CheckpointError(
            f"{path} is refused: its vocabularies or tokenizers are damaged ({error!r})"
        ) from None
    return LoadedCheckpoint(
        path,
        config,
        model_config,
        task,
        state,
        vocabs[0],
        vocabs[1],
        tokenizers[0],
        tokenizers[1],
        float(extra.get("length_ratio", 2.0)),
        label_names,
    )


def _saved_tokenizer(
    extra: dict[str, Any], side: str, task: TaskConfig, vocabs: list[Vocab | None]
) -> Tokenizer | None:
    """The tokenizer a checkpoint saved; for checkpoints from before tokenizers were saved,
    whitespace tokenization with the task's lowercasing (what training did then)."""
    if f"{side}_tokenizer" in extra:
        return tokenizer_from_state(extra[f"{side}_tokenizer"])
    if vocabs[0 if side == "source" else 1] is None:
        return None
    return Tokenizer(bool(getattr(task, "lowercase", False)))


def restore_model(checkpoint: LoadedCheckpoint, spec: TaskSpec) -> nn.Module:
    """The checkpoint's model with its trained weights, in eval mode."""
    model = checkpoint.model_config.build(spec)
    try:
        model.load_state_dict(checkpoint.state_dict)
    except RuntimeError as error:
        detail = str(error).splitlines()[1:2] or [str(error)]
        raise CheckpointError(
            f"{checkpoint.path} is refused: its weights do not fit the model its config "
            f"describes ({detail[0].strip()}); the file was altered or mixes two runs"
        ) from None
    model.eval()
    return model
