"""Run folders written before non-finite measures were refused may hold NaN or infinity in
``summary.json``: the tables withhold that run's numbers and the figures draw the others, and
both say which run has no value, never raising (``Axis limits cannot be NaN or Inf``)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coopsim import figures
from coopsim.analysis import tables
from coopsim.record import RunData

NAN, INF = float("nan"), float("inf")


def run(name: str, productivity: float, equality: float) -> RunData:
    """A run as an old folder recorded it: per-episode values and their summary."""
    per_episode = pd.DataFrame(
        {"productivity": [productivity] * 3, "equality": [equality] * 3, "gini": [0.0] * 3}
    )
    metrics = {
        m: {"mean": v, "ci_low": v, "ci_high": v, "std": 0.0, "n": 3}
        for m, v in (("productivity", productivity), ("equality", equality), ("gini", 0.0))
    }
    summary = {"scenario": name, "mechanism": "none", "seed": 0, "metrics": metrics}
    return RunData(Path(f"{name}-s0"), summary, {}, pd.DataFrame(), episode_metrics=per_episode)


def texts(fig) -> str:
    found = [t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))]
    return " ".join(found)


@pytest.mark.parametrize("bad", [NAN, INF])
def test_tables_withhold_a_broken_runs_numbers_and_name_it(bad):
    runs = [run("good", 900.0, 0.9), run("broken", bad, 1.0)]
    assert tables.unmeasured(runs) == {"broken-s0": ["productivity"]}
    table = tables.summary(runs)
    broken = table[table["run"] == "broken-s0"]
    # equality 1.0 and Gini 0 came from the same broken episodes: withheld, not shown
    assert broken["mean"].isna().all() and len(broken) == 3
    good = table[table["run"] == "good-s0"].set_index("metric")["mean"]
    assert good["productivity"] == 900.0 and good["equality"] == pytest.approx(0.9)
    compared = tables.compare(runs)
    assert np.isnan(compared.loc[compared["run"] == "broken-s0", "equality"]).all()
    tables.format_compare(compared)  # does not raise
    (note,) = tables.unmeasured_notes(runs)
    assert note.startswith("broken-s0: no values (productivity")


@pytest.mark.parametrize("bad", [NAN, INF])
def test_the_scatter_draws_the_others_and_names_the_run_without_a_value(bad):
    runs = [run("good", 900.0, 0.9), run("broken", bad, 1.0)]
    fig = figures.equality_vs_productivity(runs)
    fig.savefig(io.BytesIO(), format="png")  # draws: no NaN axis limits
    assert "broken-s0: no values" in texts(fig)
    lone = figures.equality_vs_productivity([run("broken", bad, 1.0)])
    lone.savefig(io.BytesIO(), format="png")
    assert "broken-s0: no values" in texts(lone)


def test_the_bar_chart_names_the_run_without_a_value():
    runs = [run("good", 900.0, 0.9), run("broken", NAN, 1.0)]
    fig = figures.compare_metrics(runs, ["productivity", "equality"])
    fig.savefig(io.BytesIO(), format="png")
    assert "broken-s0: no values" in texts(fig)
