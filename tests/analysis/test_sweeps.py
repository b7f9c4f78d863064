"""What a sweep found: cell means with t intervals over seeds, the best cell, paired effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coopsim.analysis.sweep_figure import sweep_figure
from coopsim.analysis.sweeps import best_cell, cell_means, effect, findings
from coopsim.intervals import paired_difference, t_interval


def _table(values: dict[float, list[float]], gini: bool = False) -> pd.DataFrame:
    rows = []
    for rate, per_seed in values.items():
        for seed, v in enumerate(per_seed):
            rows.append({"mechanisms.0.rate": rate, "seed": seed, "objective": v, "gini": v,
                         "status": "ok", "error": "", "wall_s": 1.0, "run": "", "cell": str(rate)})  # fmt: skip
    frame = pd.DataFrame(rows)
    frame.attrs["fields"] = ["mechanisms.0.rate"]
    return frame


VALUES = {0.0: [10.0, 12.0, 11.0], 1.0: [15.0, 19.0, 14.0], 2.0: [13.0, 13.5, 12.5]}


def test_cell_means_are_t_intervals_over_seeds():
    means = cell_means(_table(VALUES))
    expected = t_interval(np.array(VALUES[1.0]))
    row = means[means["mechanisms.0.rate"] == 1.0].iloc[0]
    assert (row["mean"], row["ci_low"], row["n"]) == (expected.mean, expected.ci_low, 3)


def test_best_cell_follows_the_measures_direction():
    table = _table(VALUES)
    assert best_cell(table)["mechanisms.0.rate"] == 1.0
    # Gini: lower is better; here gini = objective, so the lowest objective wins
    assert best_cell(table, "gini")["mechanisms.0.rate"] == 0.0


def test_effect_is_paired_by_seed_between_the_extreme_values():
    eff = effect(_table(VALUES), "mechanisms.0.rate")
    assert (eff.low, eff.high) == (0.0, 2.0)
    assert eff.difference == paired_difference(np.array(VALUES[2.0]), np.array(VALUES[0.0]))


def test_findings_name_the_best_cell_and_the_effect():
    table = _table(VALUES)
    table.loc[len(table)] = {**table.iloc[0].to_dict(), "status": "failed", "objective": np.nan}
    lines = findings(table)
    assert lines[0].startswith(
        "The best cell for objective is rate of mechanism 1 (mechanisms.0.rate) = 1.0: 16"
    )
    assert (
        "Raising rate of mechanism 1 (mechanisms.0.rate) from 0.0 to 2.0 changes objective by +2"
        in lines[1]
    )
    assert "[95% CI -0.1513, +4.151]" in lines[1] and "includes zero: no clear effect" in lines[1]
    assert lines[-1] == "1 of 10 cell-seeds failed and are left out."
    with pytest.raises(ValueError, match="metric 'nope' is not in the sweep"):
        findings(table, "nope")


def test_one_field_gives_a_band_two_a_heat_map():
    fig = sweep_figure(_table(VALUES))
    ax = fig.axes[0]
    assert ax.get_xlabel() == "rate of mechanism 1" and len(ax.collections) == 2  # band, seeds
    assert ax.get_ylabel() == "the scenario's objective"  # no unit that repeats its name
    two = _table(VALUES).assign(**{"world.rounds": [5, 10, 5] * 3})
    two.attrs["fields"] = ["mechanisms.0.rate", "world.rounds"]
    heat = sweep_figure(two)
    assert heat.axes[0].get_ylabel() == "world rounds" and len(heat.axes) == 2  # the colour bar
    assert heat.axes[0].images[0].get_array().shape == (2, 3)


def test_list_values_are_cells_too():
    table = _table(VALUES)
    table["mechanisms.0.rate"] = table["mechanisms.0.rate"].map(lambda r: np.array([0.0, r]))
    means = cell_means(table)
    assert list(means["mechanisms.0.rate"]) == ["[0.0, 0.0]", "[0.0, 1.0]", "[0.0, 2.0]"]
    assert best_cell(table)["mechanisms.0.rate"] == "[0.0, 1.0]"


def test_a_field_of_named_values_has_a_best_cell_but_no_direction():
    table = _table(VALUES).rename(columns={"mechanisms.0.rate": "regime"})
    table["regime"] = table["regime"].map({0.0: "free market", 1.0: "AI planner", 2.0: "Saez"})
    table.attrs["fields"] = ["regime"]
    with pytest.raises(ValueError, match="named values"):
        effect(table, "regime")
    lines = findings(table)
    assert lines[0].startswith("The best cell for objective is regime = 'AI planner'")
    assert not any(line.startswith("Raising") for line in lines)


def test_a_zero_width_effect_is_said_as_such_not_as_excluding_zero():
    same = {0.0: [10.0, 10.0, 10.0], 1.0: [12.0, 12.0, 12.0], 2.0: [14.0, 14.0, 14.0]}
    lines = findings(_table(same))
    effect_line = next(line for line in lines if line.startswith("Raising"))
    assert "excludes zero" not in effect_line
    assert "an interval of zero width: every unit gave the same value" in effect_line
