"""One contribution rate: the demo's table, the brief, the Compare page and ``rules_table`` read
the same learners' contribution rate from the same runs, and say whose it is in the label."""

from __future__ import annotations

import pytest

from coopsim.analysis.demo_findings import arm_findings, format_table
from coopsim.analysis.rules import (
    LEARNERS_RATE,
    estimate_text,
    group_rules,
    measure_words,
    rules_table,
)
from coopsim.record import load_run


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """{demo arm: its runs}, the demo's five rules at two seeds, one iteration each."""
    from tests.demo_runs import tiny_demo

    paths = tiny_demo(tmp_path_factory.mktemp("runs"))
    return {arm: [load_run(p) for p in by_seed.values()] for arm, by_seed in paths.items()}


def test_the_demo_table_rules_table_brief_and_compare_give_one_number(demo):
    from coopsim.app.views.compare import rules_frame
    from coopsim.report.brief_findings import brief

    runs = [run for arm_runs in demo.values() for run in arm_runs]
    table = rules_table(runs)
    rates = table[table["measure"] == LEARNERS_RATE].set_index("rule")
    said = next(f for f in brief(runs).findings if f.key == "cooperation")
    assert said.measure == LEARNERS_RATE
    assert said.sentence.startswith("Learners' contribution rate (share of endowment the")
    frame = rules_frame(runs).set_index("rule")
    label = measure_words(LEARNERS_RATE)[0]
    assert label == "learners' contribution rate" and label in frame.columns
    for arm, arm_runs in demo.items():
        demo_rate = arm_findings(arm, arm_runs).contribution
        rule = next(r.label for r in group_rules(runs) if r.runs[0].path == arm_runs[0].path)
        row = rates.loc[rule]
        assert row["mean"] == pytest.approx(demo_rate.mean, abs=1e-9)
        assert row["ci_low"] == pytest.approx(demo_rate.ci_low, abs=1e-9)
        assert row["ci_high"] == pytest.approx(demo_rate.ci_high, abs=1e-9)
        assert said.values[rule]["mean"] == pytest.approx(demo_rate.mean, abs=1e-9)
        unit = measure_words(LEARNERS_RATE)[1]
        shown = estimate_text(demo_rate.mean, demo_rate.ci_low, demo_rate.ci_high, unit, True)
        assert frame.loc[rule, label] == shown
    assert label in format_table([arm_findings(a, r) for a, r in demo.items()])


def test_all_seats_and_learners_differ_where_scripted_seats_contribute(demo):
    """Peer punishment seats two scripted punishers who contribute everything: the all-seats
    rate is higher than the learners', and the table labels them apart."""
    runs = demo["peer punishment"]
    table = rules_table(runs).set_index("measure")
    learners, every = table.loc[LEARNERS_RATE], table.loc["contribution_rate"]
    assert every["label"] == "contribution rate, all seats"
    assert every["mean"] > learners["mean"]
    # the other rules seat learners only: the two rates are one number there
    alone = rules_table(demo["no mechanism"]).set_index("measure")
    assert alone.loc[LEARNERS_RATE, "mean"] == pytest.approx(alone.loc["contribution_rate", "mean"])
