"""The classes a config may name by ``_target_``: an explicit allow-list, checked by name
before anything is imported, at every nesting level of a config.

A config is data. It reaches seqlab from the command line, from yaml files, from a run dir's
config.yaml (``resume=``) and from inside checkpoints, and none of these may make seqlab import
or call anything it does not already trust. So every ``_target_`` is looked up here by its
dotted name alone, against the classes for its place in the config:

- ``model``: the model schemas seqlab ships (each module of ``seqlab.models`` declares them in
  ``SCHEMAS``);
- ``task``: the task schemas seqlab ships (``seqlab.tasks``, likewise);
- ``trainer``: Lightning's Trainer; ``trainer.profiler``: Lightning's profilers.

A name that is not on its list is refused with a message, and nothing of it is imported. A
``_target_`` anywhere else in a config is refused too.

Models and tasks of the user's own (a module declaring ``SCHEMAS``, as seqlab's own do) join
the list only when the user names their modules in the environment variable
``SEQLAB_EXTENSIONS`` (comma-separated module names): the choice is the user's, never a file's.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
from collections.abc import Iterator, Mapping
from typing import Any

from seqlab.errors import ConfigError

EXTENSIONS_ENV = "SEQLAB_EXTENSIONS"

# The packages whose modules declare the shipped schemas, by group (named, not imported:
# seqlab.config sits below them).
SCHEMA_PACKAGES = {"model": "seqlab.models", "task": "seqlab.tasks"}

# Lightning pieces a config may name (the trainer group's class and its profiler option).
TRAINER_CLASSES = ("lightning.pytorch.Trainer", "lightning.Trainer")
PROFILER_CLASSES = tuple(
    f"lightning.pytorch.profilers.{name}"
    for name in ("SimpleProfiler", "AdvancedProfiler", "PyTorchProfiler", "PassThroughProfiler")
)
FIXED = {"trainer": TRAINER_CLASSES, "trainer.profiler": PROFILER_CLASSES}


def _package_modules(package: str) -> Iterator[str]:
    """The modules of one of seqlab's own packages, found by listing its files."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations is not None
    for info in pkgutil.iter_modules(spec.submodule_search_locations, f"{package}."):
        yield info.name


def extension_modules() -> list[str]:
    """The module names in ``$SEQLAB_EXTENSIONS`` (comma-separated)."""
    return [m.strip() for m in os.environ.get(EXTENSIONS_ENV, "").split(",") if m.strip()]


def _declared_schemas(module_name: str) -> dict[str, type]:
    """``dotted name -> class`` of the schemas ``module_name`` declares in ``SCHEMAS``."""
    module = importlib.import_module(module_name)
    return {f"{c.__module__}.{c.__qualname__}": c for c in getattr(module, "SCHEMAS", {}).values()}


def schema_classes(group: str) -> dict[str, type]:
    """Every class a ``group`` (model or task) config may name: the schemas seqlab's own
    modules of that group declare, then those of the modules in ``$SEQLAB_EXTENSIONS``
    (whether a class is of the right kind is the caller's check: seqlab.config.schema)."""
    classes: dict[str, type] = {}
    for module in _package_modules(SCHEMA_PACKAGES[group]):
        classes.update(_declared_schemas(module))
    for module in extension_modules():  # a module may declare models and tasks alike
        try:
            classes.update(_declared_schemas(module))
        except ImportError as error:
            raise ConfigError(
                f"{EXTENSIONS_ENV} names the module {module}, which cannot be imported "
                f"({error}); fix the name or the PYTHONPATH"
            ) from None
    return classes


def allowed_names(place: str) -> tuple[str, ...]:
    """The dotted names a ``_target_`` at ``place`` (``model``, ``task``, ``trainer``,
    ``trainer.profiler``) may hold; none elsewhere."""
    if place in SCHEMA_PACKAGES:
        return tuple(schema_classes(place))
    return FIXED.get(place, ())


def require_allowed(name: Any, place: str) -> str:
    """``name`` if a ``_target_`` at ``place`` may name it, else a ConfigError. Only names
    are compared: nothing is imported for a name that is refused."""
    allowed = allowed_names(place)
    if isinstance(name, str) and name in allowed:
        return name
    key = f"{place}._target_" if place else "_target_"
    if not allowed:
        raise ConfigError(
            f"{key}={name} is refused: seqlab builds no object from a config at "
            f"{place or 'the top level'}; remove the key"
        )
    shown = ", ".join(sorted(allowed)[:8]) + (", ..." if len(allowed) > 8 else "")
    extension = (
        f"; a model or task of your own joins the list when you name its module in "
        f"{EXTENSIONS_ENV}=your.module"
        if place in SCHEMA_PACKAGES
        else ""
    )
    raise ConfigError(
        f"{key}={name} is refused: a config may only name classes seqlab knows "
        f"({shown}){extension}. Nothing of it was imported."
    )


def resolve_target(name: Any, place: str) -> type:
    """The class a ``_target_`` at ``place`` names, once the name is on its allow-list."""
    name = require_allowed(name, place)
    if place in SCHEMA_PACKAGES:
        return schema_classes(place)[name]
    module, _, attribute = name.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def check_targets(node: Any, place: str = "") -> None:
    """Every ``_target_`` at every nesting level of ``node`` (a plain or OmegaConf mapping,
    lists included) checked by name against the list for its place."""
    if isinstance(node, Mapping) or (hasattr(node, "items") and hasattr(node, "keys")):
        for key, value in node.items():
            if key == "_target_":
                require_allowed(value, place)
            else:
                check_targets(value, f"{place}.{key}" if place else str(key))
    elif isinstance(node, list | tuple) or type(node).__name__ == "ListConfig":
        for index, value in enumerate(node):
            check_targets(value, f"{place}[{index}]")
