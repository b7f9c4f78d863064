"""Rules side by side: one measure per rule, mean and interval over training seeds.

Why a dot-and-whisker chart, rules as rows: rule labels are phrases ("matching, planner-chosen
(2)") that read across a row but not up an axis, and a bar would start from zero, which means
nothing for welfare that can be negative. The best rule is at the top, as in the ranked table.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

from coopsim.figures.style import CoopsimFigure, empty_figure

#: Characters per line of a rule's label: about 40% of the figure's width, the rest for data.
LABEL_CHARS = 36


def rule_ranking(table: pd.DataFrame, measure: str, order: Sequence[str] | None = None) -> Figure:
    """Measure ``measure`` of each rule of a :func:`coopsim.analysis.rules.rules_table`, in
    ``order`` top to bottom (default: the table's)."""
    rows = table[table["measure"] == measure].set_index("rule")
    if rows.empty:
        return empty_figure(measure.replace("_", " "), "No rule has this measure.")
    order = [r for r in (order or list(rows.index)) if r in rows.index]
    label, unit = rows.iloc[0]["label"], rows.iloc[0]["unit"]
    # A rule's label can run to 100 characters ("peer punishment 3x, with 2 punisher seats and
    # 1 conditional cooperator seat ..."): on one line it is wider than the figure, and the
    # constrained layout gives up (the axes collapse, with a warning). Wrapped, each row grows
    # taller instead, and the figure with it.
    names = [textwrap.fill(r, LABEL_CHARS) for r in order]
    lines = max(n.count("\n") + 1 for n in names)  # rows are evenly spaced: the tallest's
    height = max(2.2, 0.9 + len(order) * (0.14 + 0.18 * lines))  # per row: its lines, a gap
    fig = CoopsimFigure(figsize=(7.0, height), layout="constrained")
    ax = fig.add_subplot()
    y = list(range(len(order)))[::-1]  # the first (best) at the top
    means = rows.loc[order, "mean"].to_numpy(dtype=float)
    low = means - rows.loc[order, "ci_low"].to_numpy(dtype=float)
    high = rows.loc[order, "ci_high"].to_numpy(dtype=float) - means
    ax.errorbar(means, y, xerr=[low, high], fmt="o", color="#1f4e79", capsize=4, markersize=6)
    ax.set_yticks(y, names)
    ax.set_ylim(-0.6, len(order) - 0.4)
    ax.set_xlabel(label if len(f"{label} ({unit})") > 60 else f"{label} ({unit})")
    ax.grid(axis="x", alpha=0.3)
    ax.margins(x=0.08)
    return fig


def _cell_text(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def stress_heatmap(
    frame: pd.DataFrame, measure: str = "objective", names: dict[str, str] | None = None
) -> Figure:
    """A stress test's means of ``measure``, rules as rows and populations as columns, each
    cell written in (``names``: a rule's name in the stress table -> the label to show).

    Why a heat map: the question is which population breaks which rule, a row-and-column
    question. Why each cell is coloured by its share of the rule's own in-distribution value:
    rules may be trained for different objectives, on scales a shared colour bar would mix up;
    the share says how much of what a rule promised survives each population. The values are
    written in, so it reads in grey print too."""
    import textwrap

    import numpy as np

    rows = frame[(frame["measure"] == measure) & (frame["kind"] != "exploiter")]
    if rows.empty:
        return empty_figure("stress test", f"The stress test has no {measure} to show.")
    grid = rows.pivot_table(index="rule", columns="population", values="mean", sort=False)
    names = names or {}
    ylabels = [names.get(r, r) for r in grid.index]
    xlabels = [textwrap.fill(str(c).replace("_", " "), 16) for c in grid.columns]
    values = grid.to_numpy(dtype=float)
    home = (
        grid["in-distribution"].to_numpy(dtype=float)
        if "in-distribution" in grid
        else np.full(len(grid), np.nan)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(home[:, None] > 0, values / home[:, None], np.nan)
    width = min(14.0, 3.5 + 0.35 * max(len(y) for y in ylabels) / 3 + 1.25 * grid.shape[1])
    fig = CoopsimFigure(figsize=(width, 2.2 + 0.5 * grid.shape[0]), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(np.clip(share, 0, 1.5), cmap="cividis", vmin=0, vmax=1.5, aspect="auto")
    for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value):
            dark = not np.isfinite(share[i, j]) or share[i, j] < 0.75
            ax.text(j, i, _cell_text(value), ha="center", va="center", fontsize=9,
                    color="white" if dark else "black")  # fmt: skip
    ax.set_xticks(range(grid.shape[1]), xlabels, fontsize=8)
    ax.set_yticks(range(grid.shape[0]), ylabels)
    ax.set_title(f"{measure.replace('_', ' ')} against each population (mean)")
    bar = fig.colorbar(image, ax=ax, shrink=0.9)
    bar.set_label("share of the rule's\nin-distribution value")
    return fig
