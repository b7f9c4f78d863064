"""The sweep figure: a metric against one swept field with its interval band over seeds, or a
heat map of the cells' means over two fields.

Bands and cell values come from :func:`coopsim.analysis.sweeps.cell_means` (t intervals over
seeds). With three or more fields the figure draws the first two and averages over the rest,
and says so in its title. Built without pyplot, like :mod:`coopsim.figures`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from coopsim.analysis.sweeps import DEFAULT_METRIC, cell_means, field_words, fields_of
from coopsim.measures import MEASURES


def _label(metric: str) -> str:
    m = MEASURES.get(metric)
    if m is None:
        return metric.replace("_", " ")
    if metric == "objective":  # its unit is the objective's own: no words to add
        return "the scenario's objective"
    return f"{m.label} ({m.unit})"


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def sweep_figure(table: pd.DataFrame, metric: str = DEFAULT_METRIC) -> Figure:
    """``metric`` vs the swept field (a band: 95% t interval over seeds), or a heat map."""
    from coopsim.figures import CoopsimFigure

    fields = fields_of(table)
    fig = CoopsimFigure(figsize=(7.0, 4.2))
    ax = fig.add_subplot()
    rest = f"; averaged over {', '.join(fields[2:])}" if len(fields) > 2 else ""
    if len(fields) == 1:
        (field,) = fields
        means = cell_means(table, metric)
        x = means[field].to_numpy() if _numeric(means[field]) else np.arange(len(means))
        ax.plot(x, means["mean"], marker="o", label="mean over seeds")
        ax.fill_between(x, means["ci_low"], means["ci_high"], alpha=0.25, label="95% CI (seeds)")
        ok = table[table["status"] == "ok"]
        seeds_x = ok[field].to_numpy() if _numeric(means[field]) else None
        if seeds_x is not None:
            ax.scatter(seeds_x, ok[metric], s=10, color="0.4", label="one seed", zorder=3)
        else:
            ax.set_xticks(x, [str(v) for v in means[field]])
        ax.set_xlabel(field_words(field))
        ax.set_ylabel(_label(metric))
        ax.legend()
        ax.set_title(f"{_label(metric)} over {field_words(field)}")
        return fig
    a, b = fields[:2]
    ok = table[table["status"] == "ok"]
    grid = ok.groupby([b, a])[metric].mean().unstack(a)  # [values of b, values of a]
    image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(grid.shape[1]), [str(v) for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [str(v) for v in grid.index])
    for (i, j), value in np.ndenumerate(grid.to_numpy()):
        ax.text(j, i, f"{value:.3g}", ha="center", va="center", color="white", fontsize=8)
    ax.set_xlabel(field_words(a))
    ax.set_ylabel(field_words(b))
    fig.colorbar(image, ax=ax, label=f"{_label(metric)}, mean over seeds")
    ax.set_title(f"{metric} over {a} and {b}{rest}")
    return fig
