"""The Run page's "Training metrics by iteration": one small chart per quantity, each its own scale.

Why small multiples: a training row holds quantities of very different sizes (agent-steps run
to 800,000 while entropy and the losses stay near 1), and one shared axis flattened all but the
largest to a line along zero. Each panel gets its own y axis; the x axis (training iteration)
is shared, so the panels line up in time.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

X = "iteration"
#: Quantities a person looks at first, in this order; every other column follows by name, and
#: the bookkeeping ones (how far, how long) come last.
FIRST = ("agents_return", "agents_entropy", "agents_policy_loss", "agents_value_loss")
LAST = ("agent_steps", "seconds")
COLUMNS = 3
PANEL_WIDTH, PANEL_HEIGHT = 220, 120


def quantities(frame: pd.DataFrame) -> list[str]:
    """The numeric columns to draw, in the order the panels show them."""
    numeric = [c for c in frame.columns if c != X and pd.api.types.is_numeric_dtype(frame[c].dtype)]
    first = [c for c in FIRST if c in numeric]
    last = [c for c in LAST if c in numeric]
    middle = sorted(c for c in numeric if c not in first and c not in last)
    return [*first, *middle, *last]


def training_chart(rows: list[dict[str, Any]]) -> alt.FacetChart | None:
    """Small multiples of the training rows (one per quantity, independent y scales), or None
    when no row has a number to draw."""
    frame = pd.DataFrame(rows)
    if X not in frame or frame.empty:
        return None
    names = quantities(frame)
    if not names:
        return None
    long = frame.melt(id_vars=[X], value_vars=names, var_name="quantity", value_name="value")
    long = long.dropna(subset=["value"])
    label = {n: n.replace("_", " ") for n in names}
    long["quantity"] = long["quantity"].map(label)
    base = (
        alt.Chart(long)
        .mark_line(point=len(frame) < 30)
        .encode(
            x=alt.X(f"{X}:Q", title="training iteration"),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
            tooltip=[alt.Tooltip(f"{X}:Q"), alt.Tooltip("value:Q", format=",.4g")],
        )
        .properties(width=PANEL_WIDTH, height=PANEL_HEIGHT)
    )
    return base.facet(
        facet=alt.Facet(
            "quantity:N",
            title=None,
            sort=[label[n] for n in names],
            header=alt.Header(labelFontSize=13),
        ),
        columns=COLUMNS,
    ).resolve_scale(y="independent")
