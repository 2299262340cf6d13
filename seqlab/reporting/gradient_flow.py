"""The gradient-flow file a diagnostics run writes (gradient_flow.csv), read back for figures
and summaries, and the decay rate fitted to it."""

from __future__ import annotations

import csv
import math
from pathlib import Path

CSV_NAME = "gradient_flow.csv"


def read_gradient_flow(run_dir: Path) -> dict[int, list[dict[str, float]]]:
    """gradient_flow.csv of a run: step -> rows."""
    curves: dict[int, list[dict[str, float]]] = {}
    with (Path(run_dir) / CSV_NAME).open() as handle:
        for row in csv.DictReader(handle):
            values = {k: float(v) for k, v in row.items() if v not in ("", None)}
            curves.setdefault(int(values.pop("step")), []).append(values)
    return curves


def decay_rate(rows: list[dict[str, float]], up_to: int) -> float:
    """The per-step factor of ||dL/dh_{T-d}|| / ||dL/dh_T|| fitted over distances 1..up_to
    (least squares on log10): below 1 vanishing, above 1 exploding."""
    base = next(r["grad_norm"] for r in rows if r["distance"] == 0)
    points = [
        (r["distance"], math.log10(r["grad_norm"] / base))
        for r in rows
        if 0 < r["distance"] <= up_to and r["grad_norm"] > 0
    ]
    if len(points) < 2 or base <= 0:
        return float("nan")
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum(
        (x - mean_x) ** 2 for x, _ in points
    )
    return 10**slope
