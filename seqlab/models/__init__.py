"""Plain PyTorch models (no Lightning): usable from a notebook as ordinary nn.Modules."""

from seqlab.models.per_step import RecurrentTagger
from seqlab.models.recurrent import Recurrent, RecurrentOutput, reverse_padded

__all__ = ["Recurrent", "RecurrentOutput", "RecurrentTagger", "reverse_padded"]


def count_parameters(module) -> int:  # type: ignore[no-untyped-def]
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
