"""LightningModules, one per output shape (not per model): per-step labels, one label per
sequence, an output sequence, the next token of a text stream. :func:`build_objective` picks
the one a task's spec asks for."""

from __future__ import annotations

from torch import nn

from seqlab.config.training import TrainingConfig
from seqlab.models.search import DecodingConfig
from seqlab.objectives.base import SeqlabObjective
from seqlab.objectives.classification import ClassificationObjective
from seqlab.objectives.language_model import LanguageModelObjective
from seqlab.objectives.per_step import PerStepObjective
from seqlab.objectives.seq2seq import Seq2SeqObjective
from seqlab.spec import NEXT_TOKEN, PER_STEP, SEQ2SEQ, SEQUENCE, TaskSpec

OBJECTIVES: dict[str, type[SeqlabObjective]] = {
    PER_STEP: PerStepObjective,
    SEQUENCE: ClassificationObjective,
    SEQ2SEQ: Seq2SeqObjective,
    NEXT_TOKEN: LanguageModelObjective,
}


def build_objective(
    model: nn.Module,
    training: TrainingConfig,
    spec: TaskSpec,
    decoding: DecodingConfig | None = None,
    attention_maps: int = 0,
) -> SeqlabObjective:
    """The objective that trains ``model`` on a task with this ``spec`` (``attention_maps``:
    seq2seq only, see seqlab.diagnostics.gradient_flow)."""
    if spec.output == SEQ2SEQ:
        return Seq2SeqObjective(model, training, spec, decoding, attention_maps)  # type: ignore[arg-type]
    return OBJECTIVES[spec.output](model, training, spec)
