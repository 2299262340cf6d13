"""Which model trains on which task, read from their declarations: a model config's
``outputs`` and a task config's ``offers`` (seqlab/config/schema.py). Invalid combinations stop
before any data is built, with a message naming the models that can."""

from __future__ import annotations

from functools import cache

from omegaconf import OmegaConf

from seqlab.config.location import CONFIG_DIR
from seqlab.config.schema import ModelConfig, TaskConfig, describe_outputs
from seqlab.config.targets import resolve_target
from seqlab.config.training import TrainingConfig
from seqlab.errors import ConfigError
from seqlab.spec import PER_STEP, TaskSpec


@cache
def shipped_models() -> dict[str, tuple[str, ...]]:
    """Model name (configs/model/<name>.yaml) -> the outputs its ``_target_`` declares."""
    models = {}
    for path in sorted((CONFIG_DIR / "model").glob("*.yaml")):
        target = OmegaConf.load(path).get("_target_")
        if target:
            models[path.stem] = tuple(resolve_target(target, "model").outputs)
    return models


def choose_output(model: ModelConfig, task: TaskConfig) -> str:
    """The output shape this model is trained to produce on this task: the first the task
    offers that the model declares."""
    for output in task.offers:
        if output in model.outputs:
            return output
    fitting = sorted(
        name for name, outputs in shipped_models().items() if set(outputs) & set(task.offers)
    )
    raise ConfigError(
        f"model={model.name} cannot be trained on task={task.name}: the task needs "
        f"{describe_outputs(task.offers)}. Models that can: {', '.join(fitting) or 'none'}."
    )


def check_combination(model: ModelConfig, task: TaskConfig, training: TrainingConfig) -> str:
    """Raise ConfigError for a model × task × training combination seqlab cannot run;
    return the output shape the model will produce."""
    output = choose_output(model, task)
    model.check_training(training)
    if training.tbptt_steps is not None and output != PER_STEP:
        raise _tbptt_needs_fixed_length(task.name)
    return output


def check_spec(spec: TaskSpec, training: TrainingConfig) -> None:
    """The checks that need the built data: truncated BPTT needs equal lengths."""
    if training.tbptt_steps is not None and not spec.fixed_length:
        raise _tbptt_needs_fixed_length(spec.name)


def _tbptt_needs_fixed_length(task: str) -> ConfigError:
    return ConfigError(
        f"training.tbptt_steps needs a per-step task whose sequences all have the same "
        f"length; task={task} does not. Use training.tbptt_steps=null."
    )
