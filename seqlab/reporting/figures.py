"""Figures: BLEU by sentence length (Bahdanau et al. 2014, Fig. 2), metric bars, gradient flow,
attention alignments, lines against a swept value or the training step, heat-maps."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def interval_offsets(buckets: list[dict[str, Any]]) -> list[list[float]]:
    """[below, above] the plotted BLEU of each bucket's interval bleu_mean ± bleu_ci95 (the
    interval is centred on the bootstrap mean, not on the score); clipped at 0."""
    below = [max(b["bleu"] - (b["bleu_mean"] - b["bleu_ci95"]), 0.0) for b in buckets]
    above = [max(b["bleu_mean"] + b["bleu_ci95"] - b["bleu"], 0.0) for b in buckets]
    return [below, above]


def bleu_length_figure(
    curves: dict[str, list[dict[str, Any]]], title: str = "BLEU by source sentence length"
) -> Figure:
    """curves: label -> [{lo, hi, n, bleu, bleu_mean, bleu_ci95}, ...]; one line per label,
    x = bucket midpoint, with each bucket's 95% bootstrap interval (bleu_mean ± bleu_ci95)
    as an error bar where the bucket has one."""
    figure, axis = plt.subplots(figsize=(6.4, 4.4))
    styles = ["-", "--", "-.", ":"]
    for i, (label, buckets) in enumerate(curves.items()):
        xs = [(b["lo"] + b["hi"]) / 2 for b in buckets]
        ys = [b["bleu"] for b in buckets]
        line = axis.plot(xs, ys, styles[i % len(styles)], marker="o", label=label)[0]
        with_interval = [b for b in buckets if b.get("bleu_ci95") is not None]
        if with_interval:
            axis.errorbar(
                [(b["lo"] + b["hi"]) / 2 for b in with_interval],
                [b["bleu"] for b in with_interval],
                yerr=interval_offsets(with_interval),
                fmt="none",
                ecolor=line.get_color(),
                capsize=3,
                alpha=0.7,
            )
    units = {b.get("unit", "words") for buckets in curves.values() for b in buckets}
    axis.set_xlabel(f"Sentence length (source {' / '.join(sorted(units))})")
    axis.set_ylabel("BLEU score")
    axis.set_ylim(bottom=0)
    axis.grid(alpha=0.3)
    axis.legend()
    axis.set_title(title)
    figure.tight_layout()
    return figure


def metric_bars(
    rows: list[tuple[str, dict[str, float]]],
    title: str,
    errors: list[dict[str, float]] | None = None,
) -> Figure:
    """rows: (run label, {metric: value}); grouped bars, one group per run; ``errors``: per
    row, {metric: error-bar half-width} (e.g. the std over seeds)."""
    metrics = sorted({m for _, values in rows for m in values})
    figure, axis = plt.subplots(figsize=(max(6.4, 1.0 * len(rows) + 2), 4.4))
    width = 0.8 / max(len(metrics), 1)
    for j, metric in enumerate(metrics):
        xs = [i + (j - (len(metrics) - 1) / 2) * width for i in range(len(rows))]
        ys = [values.get(metric, float("nan")) for _, values in rows]
        spread = [e.get(metric, 0.0) for e in errors] if errors else None
        axis.bar(xs, ys, width, label=metric, yerr=spread, capsize=3 if spread else 0)
    axis.set_xticks(range(len(rows)), [label for label, _ in rows], rotation=20, ha="right")
    axis.set_ylim(0, 1.05)
    axis.axhline(0.5, color="grey", linewidth=0.8, linestyle=":")
    axis.grid(axis="y", alpha=0.3)
    axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    axis.set_title(title)
    figure.tight_layout()
    return figure


def gradient_flow_figure(
    curves: dict[str, list[dict[str, float]]],
    title: str = "Gradient flow: ||dL/dh_t|| by distance from the last position",
    normalise: bool = False,
) -> Figure:
    """curves: label -> rows {distance, grad_norm[, cell_grad_norm]} (gradient_flow.csv);
    log-scale norms against distance (cell-state norms dashed). With ``normalise`` each curve
    is divided by its value at distance 0: log10(||dL/dh_{T-d}|| / ||dL/dh_T||), the
    comparison of Pascanu et al. (2013)."""
    figure, axis = plt.subplots(figsize=(6.8, 4.6))
    for i, (label, rows) in enumerate(curves.items()):
        color = f"C{i % 10}"
        distances = [r["distance"] for r in rows]
        for key, style, suffix in (("grad_norm", "-", ""), ("cell_grad_norm", "--", " (C_t)")):
            values = [r.get(key) for r in rows]
            if any(v is None for v in values):
                continue
            if normalise:
                base = values[distances.index(0)] if 0 in distances else values[0]
                values = [v / base if base else float("nan") for v in values]
            axis.plot(distances, values, style, color=color, label=f"{label}{suffix}")
    axis.set_yscale("log")
    axis.set_xlabel("distance T - t (steps back from the last position)")
    axis.set_ylabel("||dL/dh_t|| / ||dL/dh_T||" if normalise else "||dL/dh_t||")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize="small", loc="best")
    axis.set_title(title, fontsize="medium")
    figure.tight_layout()
    return figure


def attention_figure(
    weights: Any, source_tokens: list[str], target_tokens: list[str], title: str = ""
) -> Figure:
    """weights (T', S) attention of each output word (rows) over the source words (columns),
    as in Bahdanau et al. (2014), Figure 3: white = 1, black = 0."""
    rows, cols = len(target_tokens), len(source_tokens)
    figure, axis = plt.subplots(figsize=(max(3.0, 0.32 * cols + 1.6), max(2.6, 0.32 * rows + 1.4)))
    axis.imshow(weights, cmap="gray", vmin=0.0, vmax=1.0, aspect="auto")
    axis.set_xticks(range(cols), source_tokens, rotation=90, fontsize="small")
    axis.set_yticks(range(rows), target_tokens, fontsize="small")
    axis.xaxis.tick_top()
    axis.set_xlabel("source")
    axis.set_ylabel("output")
    if title:
        axis.set_title(title, fontsize="small", pad=12)
    figure.tight_layout()
    return figure


def line_figure(
    curves: dict[str, list[tuple[float, float]]],
    xlabel: str,
    ylabel: str,
    title: str,
    log_y: bool = False,
    categories: list[str] | None = None,
    errors: dict[str, list[float]] | None = None,
) -> Figure:
    """curves: label -> [(x, y), ...] one line each. ``categories``: x tick labels when x are
    category positions 0..n-1 (e.g. a window size with "full"). ``errors``: label -> one
    error-bar half-width per point."""
    figure, axis = plt.subplots(figsize=(6.8, 4.4))
    for label, points in curves.items():
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        spread = (errors or {}).get(label)
        if spread is not None:
            axis.errorbar(xs, ys, yerr=spread, marker="o", capsize=3, label=label)
        else:
            axis.plot(xs, ys, marker="o" if len(xs) < 40 else None, lw=1.2, label=label)
    if categories is not None:
        axis.set_xticks(range(len(categories)), categories)
    if log_y:
        axis.set_yscale("log")
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small")
    axis.set_title(title, fontsize="medium")
    figure.tight_layout()
    return figure


def heatmap_figure(
    matrix: list[list[float]],
    row_labels: list[str],
    column_labels: list[str],
    xlabel: str,
    title: str,
    value_label: str,
) -> Figure:
    """matrix[row][column] with each cell's value written in it (NaN = no run); 0..1 scale."""
    import numpy as np

    values = np.array(matrix, dtype=float)
    figure, axis = plt.subplots(
        figsize=(max(5.0, 0.9 * len(column_labels) + 2.5), max(2.5, 0.55 * len(row_labels) + 1.6))
    )
    image = axis.imshow(np.ma.masked_invalid(values), cmap="viridis", vmin=0, vmax=1)
    axis.set_xticks(range(len(column_labels)), column_labels)
    axis.set_yticks(range(len(row_labels)), row_labels)
    for r in range(values.shape[0]):
        for c in range(values.shape[1]):
            if np.isfinite(values[r, c]):
                color = "black" if values[r, c] > 0.6 else "white"
                axis.text(c, r, f"{values[r, c]:.2f}", ha="center", va="center", color=color)
    axis.set_xlabel(xlabel)
    figure.colorbar(image, ax=axis, label=value_label)
    axis.set_title(title, fontsize="medium")
    figure.tight_layout()
    return figure
