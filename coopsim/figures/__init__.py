"""Matplotlib figures of loaded runs, shared by reports, notebooks and the app.

Every function takes runs loaded with :func:`coopsim.record.load_run` / ``load_runs`` (one run
or a list, as its name says) and returns a :class:`matplotlib.figure.Figure` with a title, axis
labels with units, and a legend. Figures are built without ``pyplot``, so they hold no global
state: show one in a notebook by leaving it as a cell's last expression, in Streamlit with
``st.pyplot(fig)``, or save it with ``fig.savefig(path)``. Where a run lacks the data a figure
needs (an evaluated run has no training log), the figure says so in words instead of failing.

Money is in coins, the worlds' currency (the public-goods endowment is 20 coins a round).
Measures are labelled with the registry's label and unit (:data:`coopsim.measures.MEASURES`),
and intervals are the house's (:mod:`coopsim.intervals`). The house style is in
:mod:`~coopsim.figures.style`, outcomes in :mod:`~coopsim.figures.outcomes`, what changed over
training in :mod:`~coopsim.figures.training`.
"""

from coopsim.figures.outcomes import (
    MIN_EQUALITY_SPAN,
    MIN_RELATIVE_SPAN,
    agent_outcomes,
    compare_metrics,
    contributions_per_round,
    equality_vs_productivity,
    lorenz_curves,
    wealth_over_time,
)
from coopsim.figures.rules import rule_ranking
from coopsim.figures.style import (
    HEADLINE_MEASURES,
    MAX_PANELS,
    SIZE,
    CoopsimFigure,
    EmptyFigure,
    axis_label,
    empty_figure,
    panel_title,
)
from coopsim.figures.training import (
    mechanism_parameters,
    metrics_over_training,
    specialisation,
)

__all__ = [
    "CoopsimFigure",
    "EmptyFigure",
    "HEADLINE_MEASURES",
    "MAX_PANELS",
    "MIN_EQUALITY_SPAN",
    "MIN_RELATIVE_SPAN",
    "SIZE",
    "agent_outcomes",
    "axis_label",
    "compare_metrics",
    "contributions_per_round",
    "empty_figure",
    "equality_vs_productivity",
    "lorenz_curves",
    "mechanism_parameters",
    "metrics_over_training",
    "panel_title",
    "rule_ranking",
    "specialisation",
    "wealth_over_time",
]
