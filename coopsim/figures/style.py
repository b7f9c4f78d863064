"""The house style every figure shares: the notebook-friendly Figure, labels and units from the
measures registry, colours and line styles, and the figure that says a run lacks its data."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from coopsim.measures import MEASURES
from coopsim.record import RunData

RunLike = RunData | Sequence[RunData]


class CoopsimFigure(Figure):
    """A matplotlib Figure that shows itself as a PNG when it is a notebook cell's value.

    Figures built without pyplot are not registered with IPython's inline backend, so this
    subclass supplies ``_repr_png_`` itself; everything else is plain matplotlib.
    """

    def _repr_png_(self) -> bytes:
        import io

        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100)
        return buf.getvalue()


#: Default size of a one-panel figure, inches.
SIZE = (7.0, 4.2)

#: The measures :func:`compare_metrics` draws by default (those the runs have), in this order.
HEADLINE_MEASURES = (
    "equality_times_productivity",
    "productivity",
    "equality",
    "contribution_rate",
    "efficiency",
    "rawls_welfare",
)

#: Most panels a figure of several metrics draws by default.
MAX_PANELS = 6


def axis_label(column: str) -> str:
    """A measure's label and unit from the registry (``Gini: index (0-1)``); any other
    column's name in words."""
    measure = MEASURES.get(column)
    if measure is None:
        return column.replace("_", " ")
    return f"{measure.label}: {measure.unit}"


def panel_title(column: str) -> str:
    """A measure's label, saying so where lower is better (inequality indices); any other
    column's name in words."""
    measure = MEASURES.get(column)
    if measure is None:
        return column.replace("_", " ")
    return measure.label + ("" if measure.higher_is_better else " (lower is better)")


def _colors(n: int) -> list:
    """``n`` distinct colours, the same run always getting the same colour within a figure."""
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    return [colormaps["viridis"](x) for x in np.linspace(0, 0.95, n)]


#: Line styles and markers cycled over a figure's series (with the colours).
_DASHES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P")


def _style(i: int) -> dict:
    """Line style and marker of series ``i``.

    Series with identical data (agents that play alike, mechanisms that change nothing) are
    drawn over one another; with colour alone only the last one drawn shows and the legend
    names lines the reader cannot find. Dashes and markers keep each one visible.
    """
    return {"linestyle": _DASHES[i % len(_DASHES)], "marker": _MARKERS[i % len(_MARKERS)]}


class EmptyFigure(CoopsimFigure):
    """A placeholder: a figure that has no data, only a sentence saying why.

    Notebooks and the app show it so a missing figure is explained; a report leaves it out
    (a page of "no data" says nothing a reader needs), which this type lets it tell.
    """


def empty_figure(title: str, message: str, size: tuple[float, float] = (7.0, 2.0)) -> Figure:
    """A figure that says in words why there is nothing to draw (keeps report layouts intact)."""
    fig = EmptyFigure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=11, color="0.3",
            transform=ax.transAxes)  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("0.8")
    return fig
