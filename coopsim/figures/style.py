"""The house style every figure shares: the notebook-friendly Figure, labels and units from the
measures registry, colours and line styles, and the figure that says a run lacks its data."""

from __future__ import annotations

from collections.abc import Sequence

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


#: Colours a reader tells apart on one axes, in print and with colour-blind eyes: the
#: Okabe-Ito palette (Okabe and Ito 2008), black last. A figure with more series than these
#: draws small multiples (:func:`facets`), never a ramp of shades nobody can match to a legend.
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
#: Most series one axes colours apart.
MAX_COLOURS = len(PALETTE)


def _colors(n: int) -> list:
    """``n`` colours, the same series always getting the same colour within a figure; past
    :data:`MAX_COLOURS` they repeat (a figure that draws that many facets them first)."""
    return [PALETTE[i % MAX_COLOURS] for i in range(n)]


def series_color(k: int) -> str:
    """The colour of a figure's series ``k`` (its place among the series given), whatever
    panel it lands in: a rule keeps its colour across a figure's panels and across figures
    of the same runs (repeating only past :data:`MAX_COLOURS` series)."""
    return PALETTE[k % MAX_COLOURS]


def facets(n: int, per: int = MAX_COLOURS) -> list[list[int]]:
    """Series ``0..n-1`` split into panels of at most ``per``, as evenly as can be (9 series:
    5 and 4, not 8 and 1)."""
    if n <= per:
        return [list(range(n))]
    panels = -(-n // per)
    size = -(-n // panels)
    return [list(range(i, min(n, i + size))) for i in range(0, n, size)]


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


def legend_below(fig, ax, *, ncol: int, title: str | None = None, fontsize: int = 8):
    """A legend under the axes, inside the figure (or the facet's subfigure ``fig``): as many
    columns as fit its width.

    Why not ``loc="best"``: lines and bars that span an axes leave no place inside that is not
    on some data. The constrained layout makes room for it below the axes; the columns drop
    until it is no wider than the figure (labels too long for one column are wrapped), so a
    printed page never cuts it off."""
    import textwrap

    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    width = fig.bbox.width
    renderer = fig.figure._get_renderer()  # the root figure's, for a subfigure too
    legend = None
    for cols in range(max(1, ncol), 0, -1):
        if legend is not None:
            legend.remove()
        wrap = 100 if cols > 1 else 60
        shown = labels if cols > 1 else [textwrap.fill(t, wrap) for t in labels]
        head = textwrap.fill(title, wrap) if title else None
        legend = fig.legend(handles, shown, loc="outside lower center", ncol=cols,
                            fontsize=fontsize, title=head, title_fontsize=fontsize)  # fmt: skip
        if legend.get_window_extent(renderer).width <= 0.98 * width:
            break
    return legend


def whole_ticks(ax, values) -> None:
    """Whole-number ticks on the x axis for counts (rounds, training iterations): each value
    where there are few, else a locator that picks only integers; the limits padded half a
    step, so a log of one iteration shows ``0``, not ``-0.04 ... 0.04``."""
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    found = np.unique(np.asarray(values, dtype=float))
    found = found[np.isfinite(found)]
    if len(found) == 0:
        return
    if len(found) <= 2 or found[-1] - found[0] < 3:
        ax.set_xticks(found)
        ax.set_xlim(found[0] - 0.5, found[-1] + 0.5)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
