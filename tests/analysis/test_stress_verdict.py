"""The verdict per rule reads worst cases, percentiles and exploitability off stress.parquet."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from coopsim.analysis.stress import verdict, worst_case_column
from coopsim.report.model import Paragraph
from coopsim.report.stress_section import stress_section


def frame() -> pd.DataFrame:
    rows = [
        ("a", "in-distribution", "in-distribution", "objective", 100.0),
        ("a", "cross-seed", "cross-seed", "objective", 90.0),
        ("a", "trained under b", "cross-rule", "objective", 80.0),
        ("a", "fgf2001", "population", "objective", 40.0),
        ("a", "exploiter (1 seat)", "exploiter", "objective", 10.0),  # not an unseen population
        ("a", "exploiter (1 seat)", "exploiter", "exploiter_gain", 5.0),
        ("a", "coalition (2 seats)", "exploiter", "objective", 60.0),
        ("a", "coalition (2 seats)", "exploiter", "exploiter_gain", 7.0),
        ("b", "in-distribution", "in-distribution", "objective", 50.0),
        ("b", "cross-seed", "cross-seed", "objective", 45.0),
        ("b", "in-distribution", "in-distribution", "gini", 0.2),
        ("b", "cross-seed", "cross-seed", "gini", 0.4),
    ]
    out = pd.DataFrame(rows, columns=["rule", "population", "kind", "measure", "mean"])
    out["ci_low"], out["ci_high"] = out["mean"] - 1, out["mean"] + 1
    out["n"], out["over"], out["units"] = 3, "runs", ""
    return out


def test_worst_case_and_percentile_are_over_unseen_populations_only():
    table = verdict(frame(), {"a": 200.0}).set_index("rule")
    a = table.loc["a"]
    assert a["in_distribution"] == 100.0
    assert a["worst_case"] == 40.0 and a["worst_population"] == "fgf2001"
    assert a["p10"] == pytest.approx(np.percentile([90.0, 80.0, 40.0], 10))
    assert a["populations"] == 3
    # the coalition gained most, and left the objective at 60
    assert a["exploitability"] == 7.0 and a["exploiter"] == "coalition (2 seats)"
    assert a["objective_under_exploiter"] == 60.0


def test_a_worst_case_above_in_distribution_is_explained_with_both_intervals():
    """The worst case is over unseen populations only, each on episodes of its own: above the
    rule's own value it is no contradiction, and the note says whether it is beyond noise."""
    from coopsim.analysis.stress import worst_above_home

    f = frame()
    assert worst_above_home(f) == []  # every worst case is below its in-distribution value
    f.loc[(f["rule"] == "b") & (f["population"] == "cross-seed"), ["mean", "ci_low", "ci_high"]] = (
        50.5,
        49.5,
        51.5,
    )
    (note,) = worst_above_home(f)
    assert note.startswith("b: worst case 50.5 (cross-seed) is above in-distribution 50.")
    assert "over the 1 population the rule never trained with, not its own trained seats" in note
    assert "in-distribution [49, 51] over 3 runs, cross-seed [49.5, 51.5] over 3 runs" in note
    assert note.endswith("the intervals overlap: within what chance gives at these episodes.")
    f.loc[(f["rule"] == "b") & (f["population"] == "cross-seed"), ["mean", "ci_low", "ci_high"]] = (
        60.0,
        58.0,
        62.0,
    )
    (note,) = worst_above_home(f)
    assert "the intervals are apart: every unseen population did better" in note
    # lower is better (gini): the worst case is the highest, and "above" is "below"
    gini = f[f["measure"] == "gini"].copy()
    gini.loc[gini["population"] == "cross-seed", ["mean", "ci_low", "ci_high"]] = (0.1, 0.05, 0.15)
    (note,) = worst_above_home(gini, measure="gini")
    assert "is below in-distribution 0.2" in note


def test_shares_of_the_yardstick_only_where_it_applies():
    table = verdict(frame(), {"a": 200.0}).set_index("rule")
    assert table.loc["a", "in_distribution_share"] == 0.5
    assert math.isnan(table.loc["a", "worst_case_share"])  # a scripted mix: no equilibrium
    assert table.loc["a", "objective_under_exploiter_share"] == 0.3
    assert math.isnan(table.loc["b", "in_distribution_share"])  # b has no yardstick
    b_only = verdict(frame()[frame()["rule"] == "b"], {"b": 100.0}).iloc[0]
    assert b_only["worst_case_share"] == 0.45  # cross-seed learners: it applies


def test_lower_is_better_measures_take_the_worst_from_above():
    gini = verdict(frame(), measure="gini").set_index("rule").loc["b"]
    assert gini["worst_case"] == 0.4


def test_the_worst_case_column_is_per_rule():
    column = worst_case_column(frame())
    assert column.to_dict() == {"a": 40.0, "b": 45.0}


def test_the_brief_section_says_the_verdict():
    section = stress_section(frame(), {"a": 200.0})
    assert section.title == "Stress test"
    text = " ".join(b.text for b in section.blocks if isinstance(b, Paragraph))
    assert "worst case 40 against fgf2001" in text
    assert "50% of the yardstick" in text


def test_stressed_rules_take_the_labels_tables_give_them():
    """A stress test names rules by scenario; tables, the brief and the app by label. A
    scenario two rules came from (two sweep cells) gives neither its numbers."""
    from types import SimpleNamespace

    from coopsim.analysis.rules import rules_verdict
    from coopsim.analysis.stress import population_words, stress_labels

    rules = [
        SimpleNamespace(label="matching 4:1", scenarios=["a"], own_objective="nash"),
        SimpleNamespace(label="no mechanism", scenarios=["b"], own_objective="utilitarian"),
    ]
    labels = stress_labels(rules, frame())
    assert labels == {"a": "matching 4:1", "b": "no mechanism"}
    assert population_words("trained under b", labels) == "trained under no mechanism"
    assert population_words("trained under c", labels) == "trained under c"  # not compared
    assert population_words("fgf2001", labels) == "fgf2001"
    table = rules_verdict(frame(), rules[::-1], {"a": 200.0})
    assert list(table["rule"]) == ["no mechanism", "matching 4:1"]  # the rules' order
    assert list(table["objective"]) == ["utilitarian welfare", "Nash welfare"]
    a = table.set_index("rule").loc["matching 4:1"]
    assert a["worst_case"] == 40.0 and a["in_distribution_share"] == 0.5
    twins = [*rules, SimpleNamespace(label="matching 2:1", scenarios=["a"], own_objective="x")]
    assert stress_labels(twins, frame()) == {"b": "no mechanism"}


def above_home() -> pd.DataFrame:
    """:func:`frame` with rule b's worst case (learners trained under a) above its own value."""
    f = frame()
    f.loc[len(f)] = ("b", "trained under a", "cross-rule", "objective", 60.0, 58.0, 62.0, 3,
                     "runs", "")  # fmt: skip
    f.loc[(f["rule"] == "b") & (f["population"] == "cross-seed"), ["mean", "ci_low", "ci_high"]] = (
        70.0,
        69.0,
        71.0,
    )
    return f


def test_the_note_on_a_worst_case_above_home_names_rules_by_their_labels():
    from coopsim.analysis.stress import worst_above_home

    labels = {"a": "matching 4:1", "b": "no mechanism"}
    (note,) = worst_above_home(above_home(), labels=labels)
    assert note.startswith("no mechanism: worst case 60 (trained under matching 4:1) is above")
    assert "trained under matching 4:1 [58, 62] over 3 runs" in note
    assert worst_above_home(above_home(), labels={"a": "matching 4:1"}) == []  # b not covered


def test_the_brief_section_explains_a_worst_case_above_home_by_label():
    """The CLI's note on a worst case above the in-distribution value is in the brief too,
    computed from the stress test's numbers, one per rule it concerns."""
    from types import SimpleNamespace

    rules = [
        SimpleNamespace(label="matching 4:1", scenarios=["a"], own_objective="nash"),
        SimpleNamespace(label="no mechanism", scenarios=["b"], own_objective="nash"),
    ]
    for section in (stress_section(frame(), rules=rules), stress_section(frame())):
        text = [b.text for b in section.blocks if isinstance(b, Paragraph)]
        assert not any("is above in-distribution" in t for t in text)
    blocks = stress_section(above_home(), rules=rules).blocks
    text = [b.text for b in blocks if isinstance(b, Paragraph)]
    (note,) = [t for t in text if "is above in-distribution" in t]
    assert note.startswith("no mechanism: worst case 60 (trained under matching 4:1) is above")
    assert "each population plays its own episodes" in note
    assert "the intervals are apart" in note
    unlabelled = stress_section(above_home())
    assert any(
        b.text.startswith("b: worst case 60 (trained under a)")
        for b in unlabelled.blocks
        if isinstance(b, Paragraph)
    )


def test_a_brief_whose_rules_the_stress_test_missed_says_so():
    from types import SimpleNamespace

    other = [SimpleNamespace(label="matching 2:1", scenarios=["z"], own_objective="nash")]
    section = stress_section(frame(), {"a": 200.0}, rules=other)
    text = [b.text for b in section.blocks if isinstance(b, Paragraph)]
    assert text[-1] == "This stress test covers none of the rules of this brief."
    assert not any("fgf2001" in t for t in text)


def exploiters(gains: dict[str, tuple[float, float, float]], iterations: float = 30.0):
    """A rule's in-distribution row and, per exploiter, its gain (mean, low, high), its budget
    and an objective change of -10 [-15, -5]."""
    rows = [("r", "in-distribution", "in-distribution", "objective", 100.0, 99.0, 101.0)]
    for name, (mean, low, high) in gains.items():
        rows += [
            ("r", name, "exploiter", "exploiter_gain", mean, low, high),
            ("r", name, "exploiter", "exploiter_iterations", iterations, iterations, iterations),
            ("r", name, "exploiter", "objective_change", -10.0, -15.0, -5.0),
            ("r", name, "exploiter", "objective", 90.0, 85.0, 95.0),
        ]
    columns = ["rule", "population", "kind", "measure", "mean", "ci_low", "ci_high"]
    out = pd.DataFrame(rows, columns=columns)
    out["n"], out["over"], out["units"] = 32, "episodes", ""
    return out


def test_a_gain_not_above_zero_reads_as_none_found_at_the_budget():
    from coopsim.analysis.stress import exploitability_words

    # below zero, and above zero on average but with an interval reaching below it
    table = verdict(
        exploiters(
            {"exploiter (1 seat)": (-4.0, -6.0, -2.0), "warm exploiter (1 seat)": (1.5, -0.5, 3.5)}
        )
    )
    row = next(table.itertuples(index=False))
    assert not row.exploitable and row.exploitability == 0.0  # never a negative one
    assert row.exploiter == "warm exploiter (1 seat)" and row.exploiter_gain == 1.5
    words = exploitability_words(row)
    assert words.startswith("no exploitability found at this budget (30 iterations)")
    assert "+1.5 [-0.5, +3.5] per seat" in words


def test_a_gain_above_zero_is_the_exploitability_with_its_interval_and_budget():
    from coopsim.analysis.stress import exploitability_words

    table = verdict(
        exploiters(
            {
                "exploiter (1 seat)": (9.0, -1.0, 19.0),  # larger, but not shown above zero
                "warm exploiter (1 seat)": (4.0, 2.0, 6.0),
            },
            iterations=40,
        )
    )
    row = next(table.itertuples(index=False))
    assert row.exploitable and row.exploitability == 4.0
    assert (row.exploiter_gain_low, row.exploiter_gain_high) == (2.0, 6.0)
    assert row.objective_change == -10.0 and row.objective_under_exploiter == 90.0
    assert exploitability_words(row) == (
        "a warm exploiter (1 seat) gained +4 [+2, +6] per seat over the seat(s) it replaced "
        "(40 iterations); objective change -10 [-15, -5]"
    )
    section = stress_section(exploiters({"exploiter (1 seat)": (-1.0, -2.0, 0.0)}))
    text = " ".join(b.text for b in section.blocks if isinstance(b, Paragraph))
    assert "no exploitability found at this budget (30 iterations)" in text
