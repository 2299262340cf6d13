"""Configs saved by older seqlab versions, brought to the current schema: renamed keys and
the class paths of the 2026-12 package layout."""

from __future__ import annotations

import dataclasses
from typing import Any

from seqlab.config.targets import resolve_target
from seqlab.errors import ConfigError

# Classes that moved in the 2026-12 package layout (issue 22): the path an older config names
# -> the path of the same class today. Only these names are rewritten; any other _target_ is
# left for the loader to check.
MOVED_CLASSES = {
    "seqlab.tasks.text_classification.TextTsvConfig": "seqlab.tasks.text_tsv.TextTsvConfig",
    "seqlab.config.schema.ModelConfig": "seqlab.config.schema.ModelConfig",
    "seqlab.config.schema.TaskConfig": "seqlab.config.schema.TaskConfig",
}


def upgrade_config(config: dict[str, Any]) -> dict[str, Any]:
    """A run config as today's seqlab reads it: configs of older versions get their
    ``_target_`` classes, and keys that moved to other groups leave the task."""
    if not isinstance(config, dict) or not all(
        isinstance(config.get(group), dict) for group in ("model", "task")
    ):
        raise ConfigError(
            "the saved config has no model and task groups; it was not written by seqlab"
        )
    model, task = dict(config["model"]), dict(config["task"])
    if "_target_" not in model:  # one ModelConfig held every kind's keys
        kind = model.pop("kind", "recurrent")
        if kind not in _LEGACY_MODEL_TARGETS:
            raise ConfigError(f"the saved config names an unknown model kind {kind!r}")
        target = _LEGACY_MODEL_TARGETS[kind]
        fields = {f.name for f in dataclasses.fields(resolve_target(target, "model"))}
        model = {k: v for k, v in model.items() if k in fields} | {"_target_": target}
    if "_target_" not in task:
        if task["name"] in ("tsv", "text_tsv"):
            task.setdefault("tokenizer", "whitespace")  # the only one there was
        for key in _LEGACY_TASK_KEYS:
            task.pop(key, None)
        if isinstance(task.get("seq2seq"), dict):
            task["seq2seq"] = {k: v for k, v in task["seq2seq"].items() if k != "stop_when"}
        if task.get("name") not in _LEGACY_TASK_TARGETS:
            raise ConfigError(f"the saved config names an unknown task {task.get('name')!r}")
        task["_target_"] = _LEGACY_TASK_TARGETS[task["name"]]
    for group in (model, task):
        group["_target_"] = MOVED_CLASSES.get(str(group["_target_"]), group["_target_"])
    return {**config, "model": model, "task": task}


# Configs written before the groups named their classes (seqlab 0.1 up to commit 500046c):
# the class each model kind and task name maps to, and the keys that moved out of the task.
_LEGACY_MODEL_TARGETS = {
    "recurrent": "seqlab.models.rnn.RNNConfig",
    "seq2seq": "seqlab.models.encoder_decoder.Seq2SeqConfig",
    "bow": "seqlab.models.baselines.BagOfWordsConfig",
    "window": "seqlab.models.baselines.WindowConfig",
}


_LEGACY_TASK_TARGETS = {
    "copy": "seqlab.tasks.copy.CopyConfig",
    "translation": "seqlab.tasks.translation.TranslationConfig",
    "tsv": "seqlab.tasks.tsv.TsvConfig",
    "sentiment": "seqlab.tasks.sentiment.SentimentConfig",
    "text_tsv": "seqlab.tasks.text_tsv.TextTsvConfig",
    "tagging": "seqlab.tasks.tagging.TaggingConfig",
}


_LEGACY_TASK_KEYS = ("monitor", "monitor_mode", "stop_when")
