"""Rules side by side: one measure per rule, mean and interval over training seeds.

Why a dot-and-whisker chart, rules as rows: rule labels are phrases ("matching, planner-chosen
(2)") that read across a row but not up an axis, and a bar would start from zero, which means
nothing for welfare that can be negative. The best rule is at the top, as in the ranked table.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

from coopsim.figures.style import CoopsimFigure, empty_figure


def rule_ranking(table: pd.DataFrame, measure: str, order: Sequence[str] | None = None) -> Figure:
    """Measure ``measure`` of each rule of a :func:`coopsim.analysis.rules.rules_table`, in
    ``order`` top to bottom (default: the table's)."""
    rows = table[table["measure"] == measure].set_index("rule")
    if rows.empty:
        return empty_figure(measure.replace("_", " "), "No rule has this measure.")
    order = [r for r in (order or list(rows.index)) if r in rows.index]
    label, unit = rows.iloc[0]["label"], rows.iloc[0]["unit"]
    height = max(2.2, 0.9 + 0.32 * len(order))
    fig = CoopsimFigure(figsize=(7.0, height), layout="constrained")
    ax = fig.add_subplot()
    y = list(range(len(order)))[::-1]  # the first (best) at the top
    means = rows.loc[order, "mean"].to_numpy(dtype=float)
    low = means - rows.loc[order, "ci_low"].to_numpy(dtype=float)
    high = rows.loc[order, "ci_high"].to_numpy(dtype=float) - means
    ax.errorbar(means, y, xerr=[low, high], fmt="o", color="#1f4e79", capsize=4, markersize=6)
    ax.set_yticks(y, order)
    ax.set_ylim(-0.6, len(order) - 0.4)
    ax.set_xlabel(label if len(f"{label} ({unit})") > 60 else f"{label} ({unit})")
    ax.grid(axis="x", alpha=0.3)
    ax.margins(x=0.08)
    return fig
