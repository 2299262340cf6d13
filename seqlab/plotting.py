"""Figures: BLEU against sentence length (in the manner of Bahdanau et al. 2014, Fig. 2)."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def bleu_length_figure(
    curves: dict[str, list[dict[str, Any]]], title: str = "BLEU by source sentence length"
) -> Figure:
    """curves: label -> [{lo, hi, n, bleu}, ...]; one line per label, x = bucket midpoint."""
    figure, axis = plt.subplots(figsize=(6.4, 4.4))
    styles = ["-", "--", "-.", ":"]
    for i, (label, buckets) in enumerate(curves.items()):
        xs = [(b["lo"] + b["hi"]) / 2 for b in buckets]
        ys = [b["bleu"] for b in buckets]
        axis.plot(xs, ys, styles[i % len(styles)], marker="o", label=label)
    axis.set_xlabel("Sentence length (source words)")
    axis.set_ylabel("BLEU score")
    axis.set_ylim(bottom=0)
    axis.grid(alpha=0.3)
    axis.legend()
    axis.set_title(title)
    figure.tight_layout()
    return figure
