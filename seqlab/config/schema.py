"""Typed configuration: the schemas' base classes and how a composed config becomes objects.

A config group that chooses a class (``model``, ``task``) names it with Hydra's ``_target_``.
That class is a dataclass and plays two parts:

* the group's **schema**: its fields are the group's keys with their types and the one set of
  defaults; ``__post_init__`` rejects bad values with a message that says how to fix them.
  The module that defines it stores it in Hydra's ConfigStore (:func:`store_schema`), and the
  group's yaml lists it in its defaults, so the yaml holds only what differs;
* the **builder**: a model config builds the ``nn.Module`` for a task's output shape, a task
  config builds the data module for the output shape a model produces.

:func:`build_config` turns a composed node into a validated instance of its ``_target_``
class (types checked, unknown keys named, defaults filled in), for yamls that use a stored
schema and for those that list every key themselves alike.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException, ValidationError

from seqlab.config.targets import resolve_target
from seqlab.errors import ConfigError
from seqlab.spec import OUTPUT_WORDS

if TYPE_CHECKING:
    import lightning as L
    from torch import nn

    from seqlab.config.training import TrainingConfig
    from seqlab.spec import TaskSpec

T = TypeVar("T")


@dataclass
class ModelConfig:
    """Base schema of the ``model`` group.

    A subclass declares ``outputs``, the output shapes (seqlab.spec) its :meth:`build` can
    produce; the compatibility check and its messages read these declarations.
    ``carries_state``: the model has a hidden state that truncated BPTT can carry from one
    chunk to the next.
    """

    _target_: str = "seqlab.config.schema.ModelConfig"
    name: str = "model"

    outputs: ClassVar[tuple[str, ...]] = ()
    carries_state: ClassVar[bool] = False

    def build(self, spec: TaskSpec) -> nn.Module:
        """The plain ``nn.Module`` for ``spec`` (its ``output`` is one of ``outputs``)."""
        raise NotImplementedError

    def refusal(self, output: str) -> str | None:
        """Why this configuration of the model cannot produce ``output`` although its class
        declares it (a bidirectional RNN and a language model), or None."""
        return None

    def check_output(self, output: str) -> None:
        """Refuse options that do not apply to ``output`` (ConfigError)."""

    def check_training(self, training: TrainingConfig) -> None:
        """Refuse training options this model cannot honour."""
        if training.tbptt_steps is not None and not self.carries_state:
            raise ConfigError(
                f"training.tbptt_steps applies to recurrent per-step models (vanilla, lstm, "
                f"gru); model={self.name} has no hidden state to carry. Use "
                f"training.tbptt_steps=null."
            )


@dataclass
class TaskConfig:
    """Base schema of the ``task`` group.

    A subclass declares ``offers``, the output shapes it can serve, preferred first (copy
    offers per-step labels and, for encoder-decoders, an output sequence), and builds the
    data module for the one chosen.
    """

    _target_: str = "seqlab.config.schema.TaskConfig"
    name: str = "task"

    offers: ClassVar[tuple[str, ...]] = ()

    def build(self, output: str) -> L.LightningDataModule:
        """The data module serving ``output`` (one of ``offers``); its ``spec`` is filled in
        by ``setup()``."""
        raise NotImplementedError


def store_schema(group: str, name: str, node: type) -> None:
    """Store a schema in Hydra's ConfigStore as ``schema/<group>/<name>``; a yaml of the
    group lists it first in its defaults: ``- /schema/<group>/<name>@_here_``."""
    ConfigStore.instance().store(group=f"schema/{group}", name=name, node=node)


def build_config(node: DictConfig | dict[str, Any], group: str, schema: type[T]) -> T:
    """A validated ``schema`` instance from a config node: types checked and converted,
    unknown keys named, missing keys filled with the schema's defaults, then the schema's
    own ``__post_init__`` checks. Every problem is a ConfigError naming ``group.key``."""
    try:
        typed = OmegaConf.merge(OmegaConf.structured(schema), node)
        return OmegaConf.to_object(typed)  # type: ignore[return-value]
    except ConfigKeyError as error:
        key = str(error.key)
        known = [f.name for f in dataclasses.fields(schema) if not f.name.startswith("_")]  # type: ignore[arg-type]
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {group}.{close[0]}?)" if close else ""
        raise ConfigError(
            f"unknown key {group}.{error.full_key or key}{hint}; known keys: {', '.join(known)}"
        ) from None
    except ValidationError as error:
        raise ConfigError(f"{group}.{error.full_key}: {error.msg}") from None
    except OmegaConfBaseException as error:
        raise ConfigError(f"{group}: {error.msg if hasattr(error, 'msg') else error}") from None


def target_class(node: DictConfig | dict[str, Any], group: str, base: type[T]) -> type[T]:
    """The class a group's ``_target_`` names: on the allow-list (seqlab.config.targets), and a
    dataclass subclass of ``base``."""
    target = node.get("_target_")
    if not target:
        raise ConfigError(
            f"the {group} config has no _target_; a {group} yaml names its class, e.g. "
            f"_target_: seqlab.models.rnn.RNNConfig"
        )
    cls = resolve_target(target, group)  # refused by name before any import
    if not (dataclasses.is_dataclass(cls) and issubclass(cls, base)):
        raise ConfigError(
            f"{group}._target_={target} is not a {group} config: it must name a dataclass "
            f"derived from {base.__module__}.{base.__qualname__}"
        )
    return cls


def instantiate_config(node: DictConfig | dict[str, Any], group: str, base: type[T]) -> T:
    """``build_config`` with the class named by the node's ``_target_``."""
    return build_config(node, group, target_class(node, group, base))


def describe_outputs(outputs: Iterable[str]) -> str:
    return " or ".join(OUTPUT_WORDS[o] for o in outputs)


# ----- value checks shared by the schemas -------------------------------------------------
