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


def metric_bars(rows: list[tuple[str, dict[str, float]]], title: str) -> Figure:
    """rows: (run label, {metric: value}); grouped bars, one group per run."""
    metrics = sorted({m for _, values in rows for m in values})
    figure, axis = plt.subplots(figsize=(max(6.4, 1.0 * len(rows) + 2), 4.4))
    width = 0.8 / max(len(metrics), 1)
    for j, metric in enumerate(metrics):
        xs = [i + (j - (len(metrics) - 1) / 2) * width for i in range(len(rows))]
        ys = [values.get(metric, float("nan")) for _, values in rows]
        axis.bar(xs, ys, width, label=metric)
    axis.set_xticks(range(len(rows)), [label for label, _ in rows], rotation=20, ha="right")
    axis.set_ylim(0, 1.05)
    axis.axhline(0.5, color="grey", linewidth=0.8, linestyle=":")
    axis.grid(axis="y", alpha=0.3)
    axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    axis.set_title(title)
    figure.tight_layout()
    return figure
