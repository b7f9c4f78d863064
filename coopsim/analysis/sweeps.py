"""What a sweep found: each cell's mean over seeds, the best cell, each field's effect.

The units of a sweep's intervals are its seeds (:mod:`coopsim.intervals`): a cell's value is
the mean over its seeds of each run's evaluation mean, with a t interval over those seeds,
which covers the luck of training as well as of evaluation. A field's effect compares its
highest value with its lowest seed by seed (the same seed trains both, and other fields'
values are averaged within each seed first), so the interval is a paired one.

All functions take the table :func:`coopsim.record.load_sweep` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from coopsim.intervals import Interval, paired_difference, t_interval, zero_width_reason
from coopsim.measures import MEASURES

DEFAULT_METRIC = "objective"


def fields_of(table: pd.DataFrame) -> list[str]:
    """The swept fields: the table's leading columns, as :func:`load_sweep` records them."""
    if "fields" in table.attrs:
        return list(table.attrs["fields"])
    return list(table.columns[: list(table.columns).index("seed")])


def _ok(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    if metric not in table.columns:
        measured = [c for c in table.columns if c in MEASURES]
        raise ValueError(f"metric {metric!r} is not in the sweep; it has {', '.join(measured)}")
    ok = table[table["status"] == "ok"]
    listed = [f for f in fields_of(table) if ok[f].map(np.ndim).gt(0).any()]
    # a list value (a tax's rates) is one value of its field: grouped by how it reads
    return (
        ok.assign(**{f: ok[f].map(lambda v: str(np.asarray(v).tolist())) for f in listed})
        if listed
        else ok
    )


def higher_is_better(metric: str) -> bool:
    return MEASURES[metric].higher_is_better if metric in MEASURES else True


def cell_means(table: pd.DataFrame, metric: str = DEFAULT_METRIC) -> pd.DataFrame:
    """One row per cell: its fields, then ``mean``, ``ci_low``, ``ci_high`` and ``n`` (seeds)."""
    fields = fields_of(table)
    rows = []
    for values, group in _ok(table, metric).groupby(fields, sort=True, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        stat = t_interval(group[metric].to_numpy())
        rows.append({**dict(zip(fields, values)), **stat.as_dict()})
    columns = [*fields, "mean", "ci_low", "ci_high", "std", "n"]
    return pd.DataFrame(rows, columns=columns)


def best_cell(table: pd.DataFrame, metric: str = DEFAULT_METRIC) -> dict[str, Any]:
    """The cell with the best mean over seeds (highest, or lowest for a measure like Gini):
    its fields' values as they were swept, then mean, ci_low, ci_high, std and n."""
    means = cell_means(table, metric)
    if means.empty:
        raise ValueError("the sweep has no finished cells")
    at = means["mean"].idxmax() if higher_is_better(metric) else means["mean"].idxmin()
    return means.loc[[at]].to_dict("records")[0]


@dataclass(frozen=True)
class Effect:
    """``metric`` at the field's highest value minus at its lowest, paired by seed."""

    field: str
    low: object  # the field's lowest swept value
    high: object  # its highest
    difference: Interval  # mean over seeds of (at high - at low), with its t interval


def effect(table: pd.DataFrame, field: str, metric: str = DEFAULT_METRIC) -> Effect:
    """How far moving ``field`` from its lowest to its highest value moves ``metric``."""
    ok = _ok(table, metric)
    per_seed = ok.groupby([field, "seed"])[metric].mean().unstack(field)  # seed x value
    values = sorted(per_seed.columns)
    if not all(isinstance(v, (int, float, np.number)) for v in values):
        raise ValueError(f"{field} takes named values; lowest and highest mean nothing for it")
    if len(values) < 2:
        raise ValueError(f"{field} takes one value in this sweep; it has no effect to measure")
    low, high = values[0], values[-1]
    paired = per_seed[[low, high]].dropna()
    diff = paired_difference(paired[high].to_numpy(), paired[low].to_numpy())
    return Effect(field, low, high, diff)


def field_words(field: str, kinds: list[str] | None = None) -> str:
    """A swept field in words: ``mechanisms.0.rate`` -> ``rate of mechanism 1 (matching)``."""
    parts = field.split(".")
    if len(parts) == 3 and parts[0] == "mechanisms" and parts[1].isdigit():
        i = int(parts[1])
        kind = f" ({kinds[i].replace('_', ' ')})" if kinds and i < len(kinds) else ""
        return f"{parts[2].replace('_', ' ')} of mechanism {i + 1}{kind}"
    if len(parts) == 2:
        return f"{parts[0]} {parts[1].replace('_', ' ')}"
    return field.replace("_", " ")


def _named(field: str) -> str:
    """A field in words with its dotted name, which ``--set`` and the app take, after it."""
    words = field_words(field)
    return field if words == field else f"{words} ({field})"


def _value(v: object) -> object:
    """A swept value as the user typed it (numpy scalars shown as plain numbers)."""
    return v.item() if isinstance(v, np.generic) else v


def _fmt(x: float) -> str:
    return f"{x:.4g}" if np.isfinite(x) else "nan"


def findings(table: pd.DataFrame, metric: str = DEFAULT_METRIC) -> list[str]:
    """Sentences a report leads with: the best cell, and each field's effect, with intervals."""
    fields = fields_of(table)
    best = best_cell(table, metric)
    where = ", ".join(f"{_named(f)} = {_value(best[f])!r}" for f in fields)
    label = MEASURES[metric].label if metric in MEASURES else metric
    lines = [
        f"The best cell for {label} is {where}: {_fmt(best['mean'])} "
        f"[95% CI {_fmt(best['ci_low'])}, {_fmt(best['ci_high'])}] over {int(best['n'])} seeds."
    ]
    for field in fields:
        try:
            eff = effect(table, field, metric)
        except ValueError:
            continue
        d = eff.difference
        reason = zero_width_reason(d.n, d.std) if not d.ci_high > d.ci_low else None
        if reason is not None:  # no width: neither excludes nor includes anything
            verdict = f"an interval of zero width: {reason}"
        elif d.ci_low > 0 or d.ci_high < 0:
            verdict = "an interval that excludes zero"
        else:
            verdict = "an interval that includes zero: no clear effect"
        lines.append(
            f"Raising {_named(field)} from {_value(eff.low)!r} to {_value(eff.high)!r} changes "
            f"{label} by "
            f"{d.mean:+.4g} [95% CI {d.ci_low:+.4g}, {d.ci_high:+.4g}] "
            f"(paired over {d.n} seeds; {verdict})."
        )
    failed = int((table["status"] != "ok").sum())
    if failed:
        lines.append(f"{failed} of {len(table)} cell-seeds failed and are left out.")
    return lines
