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
from seqlab.spec import NEXT_TOKEN, PER_STEP, TaskSpec


@cache
def shipped_models() -> dict[str, tuple[str, ...]]:
    """Model name (configs/model/<name>.yaml) -> the outputs its ``_target_`` declares (a
    bidirectional one reads ahead: never the next token)."""
    models = {}
    for path in sorted((CONFIG_DIR / "model").glob("*.yaml")):
        node = OmegaConf.load(path)
        target = node.get("_target_")
        if target:
            outputs = tuple(resolve_target(target, "model").outputs)
            if node.get("bidirectional"):
                outputs = tuple(o for o in outputs if o != NEXT_TOKEN)
            models[path.stem] = outputs
    return models


def choose_output(model: ModelConfig, task: TaskConfig) -> str:
    """The output shape this model is trained to produce on this task: the first the task
    offers that the model declares."""
    for output in task.offers:
        if output in model.outputs:
            reason = model.refusal(output)
            if reason:
                raise ConfigError(reason)
            return output
    fitting = sorted(
        name for name, outputs in shipped_models().items() if set(outputs) & set(task.offers)
    )
    why = ""
    if NEXT_TOKEN in task.offers:
        why = (
            " A language model predicts each token from the tokens before it alone, with one "
            "stack that reads left to right and carries its state along the text; an "
            "encoder-decoder needs a source sentence for every target (its decoder is a "
            "language model conditioned on it), and the bow and window baselines carry no "
            "state from one window of the text to the next."
        )
    raise ConfigError(
        f"model={model.name} cannot be trained on task={task.name}: the task needs "
        f"{describe_outputs(task.offers)}.{why} Models that can: {', '.join(fitting) or 'none'}."
    )


def check_combination(model: ModelConfig, task: TaskConfig, training: TrainingConfig) -> str:
    """Raise ConfigError for a model × task × training combination seqlab cannot run;
    return the output shape the model will produce."""
    output = choose_output(model, task)
    model.check_output(output)
    model.check_training(training)
    if output == NEXT_TOKEN:
        if training.tbptt_steps is None:
            raise ConfigError(
                f"task={task.name} trains over windows of training.tbptt_steps tokens of its "
                f"text streams; set it (e.g. training.tbptt_steps=100)"
            )
        return output
    if training.tbptt_random_length:
        raise ConfigError(
            "training.tbptt_random_length varies the window length over a text stream; it "
            "applies to task=lm only. Use training.tbptt_random_length=false."
        )
    if training.tbptt_steps is not None and output != PER_STEP:
        raise _tbptt_needs_fixed_length(task.name)
    return output


def check_spec(spec: TaskSpec, training: TrainingConfig) -> None:
    """The checks that need the built data: truncated BPTT needs equal lengths; a language
    model needs at least one window of training text per stream."""
    if spec.output == NEXT_TOKEN:
        steps, positions = training.tbptt_steps, spec.sequence_length
        if steps is not None and positions is not None and positions < steps:
            raise ConfigError(
                f"the training text of task={spec.name} is cut into streams of {positions} "
                f"tokens, shorter than one window of training.tbptt_steps={steps}. Give a "
                f"longer training file, or a smaller task.batch_size (streams) or "
                f"training.tbptt_steps."
            )
        return
    if training.tbptt_steps is not None and not spec.fixed_length:
        raise _tbptt_needs_fixed_length(spec.name)


def _tbptt_needs_fixed_length(task: str) -> ConfigError:
    return ConfigError(
        f"training.tbptt_steps needs a per-step task whose sequences all have the same "
        f"length; task={task} does not. Use training.tbptt_steps=null."
    )
