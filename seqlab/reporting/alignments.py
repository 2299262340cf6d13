"""Attention alignments (``diagnostics.attention_maps=N`` during training, ``seqlab.translate
... attention=DIR`` after it): which source words each output word attended to, as heat-maps in
the manner of Bahdanau et al. (2014), Figure 3."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor

from seqlab.text.vocab import EOS_ID, Vocab


@dataclass
class Alignment:
    """One sentence's attention: source (S words), output (T' words, </s> included when
    produced) and weights (T', S), a nested list (plain data, for files and figures)."""

    source: list[str]
    output: list[str]
    weights: list[list[float]]


def alignments(
    tokens: Tensor,
    weights: Tensor,
    src: Tensor,
    src_lengths: Tensor,
    source_vocab: Vocab,
    target_vocab: Vocab,
) -> list[Alignment]:
    """From :func:`seqlab.models.search.greedy_alignments`' tokens (B, T') and weights
    (B, T', S) and the batch's src (B, S), src_lengths (B,): one Alignment per row, cut to
    the real source words and to the output up to its </s>."""
    rows = []
    for row in range(tokens.size(0)):
        n_src = int(src_lengths[row])
        ids = tokens[row].tolist()
        n_out = ids.index(EOS_ID) + 1 if EOS_ID in ids else len(ids)
        rows.append(
            Alignment(
                source=[source_vocab.itos[i] for i in src[row, :n_src].tolist()],
                output=[target_vocab.itos[i] for i in ids[:n_out]],
                weights=weights[row, :n_out, :n_src].float().cpu().tolist(),
            )
        )
    return rows


def alignment_figure(alignment: Alignment, title: str = "") -> Any:
    """A matplotlib Figure of one :class:`Alignment` (seqlab.reporting.figures.attention_figure)."""
    from seqlab.reporting.figures import attention_figure

    return attention_figure(alignment.weights, alignment.source, alignment.output, title)


def write_alignment_pngs(
    found: list[Alignment], directory: Path, first_number: int = 1
) -> list[Path]:
    """One PNG per alignment, ``<directory>/<n>.png`` numbered from ``first_number`` (the
    input line numbers); returns the paths."""
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, alignment in enumerate(found, start=first_number):
        figure = alignment_figure(alignment, f"line {number}")
        path = directory / f"{number}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        paths.append(path)
    return paths
