"""A stress test read where rules are compared: ``rules_table(..., stress=DIR)``'s worst-case
column and the Compare page's "Stress test" tab, on a small stress folder made here."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from coopsim import scenario as sc
from coopsim.runner import run_scenario

PAGE = (
    "from coopsim.app import state\n"
    "from coopsim.app.views import compare\n"
    "state.init()\n"
    "compare.render()\n"
)


def _tiny(name: str) -> sc.Scenario:
    scenario = sc.load(name)
    scenario.training.num_worlds = 8
    scenario.evaluation.episodes = 4
    return scenario


@pytest.fixture(scope="module")
def stressed(tmp_path_factory) -> tuple[Path, list[Path], Path]:
    """(runs folder, two rules at two seeds each, the stress folder inside the runs folder)."""
    from coopsim.stress.driver import Stress, StressConfig
    from coopsim.stress.populations import load_population

    runs_dir = tmp_path_factory.mktemp("runs")
    paths = [
        run_scenario(_tiny(name), seed=seed, out=runs_dir, iterations=2)
        for name in ("public_goods_learning_matching", "public_goods_learning")
        for seed in (0, 1)
    ]
    out = runs_dir / "stress"
    config = StressConfig(episodes=4, coalitions=(1,), exploiter_iterations=2)
    Stress(paths, [load_population("free_riders")], out, config).run(progress=False)
    return runs_dir, paths, out


def test_rules_table_adds_each_rules_worst_case_over_unseen_populations(stressed):
    from coopsim.analysis.rules import rules_table, wide
    from coopsim.analysis.stress import verdict
    from coopsim.record import load_run

    _, paths, out = stressed
    runs = [load_run(p) for p in paths]
    plain = rules_table(runs)
    table = rules_table(runs, stress=out)
    assert "worst_case" not in plain
    pd.testing.assert_frame_equal(table[plain.columns], plain)  # the rest is unchanged
    frame = pd.read_parquet(out / "stress.parquet")
    expected = verdict(frame, measure="contribution_rate").set_index("rule")["worst_case"]
    rows = table[table["measure"] == "contribution_rate"].set_index("scenario")
    for scenario, worst in expected.items():
        assert rows.loc[scenario, "worst_case"] == pytest.approx(worst)
    # beside it, the value it is compared with: the rule's own learners in the stress test
    home = verdict(frame, measure="contribution_rate").set_index("rule")["in_distribution"]
    for scenario, value in home.items():
        assert rows.loc[scenario, "stress_in_distribution"] == pytest.approx(value)
    # free riders contribute nothing, whatever the rule: the worst contribution rate is 0
    assert (rows["worst_case"] == 0).all() and (rows["worst_population"] == "free_riders").all()
    assert "contribution_rate_worst_case" in wide(table)
    by_label = table[table["measure"] == "contribution_rate"].set_index("rule")
    for label, row in wide(table).set_index("rule").iterrows():  # beside it, as in the table
        assert row["contribution_rate_stress_in_distribution"] == pytest.approx(
            by_label.loc[label, "stress_in_distribution"]
        )
        assert row["contribution_rate_worst_population"] == "free_riders"
    # measures the stress test did not cover (net welfare is derived here) are left empty
    assert table[table["measure"] == "net_welfare"]["worst_case"].isna().all()
    with pytest.raises(FileNotFoundError, match="not a coopsim stress folder"):
        rules_table(runs, stress=out.parent / "nowhere")


def test_compare_has_a_stress_tab_with_the_verdict_and_a_heat_map(stressed, monkeypatch):
    from coopsim.app.views.compare import stress_verdict
    from coopsim.record import load_run

    runs_dir, paths, out = stressed
    monkeypatch.setenv("COOPSIM_RUNS", str(runs_dir))
    table, names = stress_verdict(
        pd.read_parquet(out / "stress.parquet"), [load_run(p) for p in paths]
    )
    assert sorted(names) == ["public_goods_learning", "public_goods_learning_matching"]
    assert list(table.columns) == [
        "rule", "objective", "in-distribution", "worst case", "10th percentile", "exploitability",
    ]  # fmt: skip
    assert sorted(table["rule"]) == sorted(names.values())
    assert table["exploitability"].str.contains("per seat").all()

    at = AppTest.from_string(PAGE, default_timeout=180).run()
    assert not at.exception, at.exception
    assert sorted(at.multiselect[0].value) == sorted(str(p.name) for p in paths)
    rules = at.table[0].value
    column = [c for c in rules.columns if c.startswith("worst case (")]
    assert column and rules[column[0]].astype(bool).all()
    stress_tab = next(t for t in at.tabs if t.label == "Stress test")
    shown = stress_tab.table[0].value
    assert sorted(shown.index) == sorted(names.values())
    assert any("yardstick" in c.value for c in stress_tab.caption)


def test_the_report_pages_brief_has_the_stress_test_compare_shows(stressed, monkeypatch):
    """The Report page's brief on runs a stress folder covers gets its Stress test section;
    the brief keeps to the runs chosen (the stress folder's other runs stay out)."""
    from coopsim.app.views.report import _build

    runs_dir, paths, _ = stressed
    monkeypatch.setenv("COOPSIM_RUNS", str(runs_dir))
    chosen = [p for p in paths if p.name.startswith("public_goods_learning_matching")]
    built = _build(chosen)
    assert "Stress test" in built["html"]
    assert built["runs"] == [p.name for p in chosen]
    other = next(p.name for p in paths if p not in chosen)
    assert "2 run(s)" in built["html"] and other not in built["html"]


def test_the_brief_names_the_stressed_rules_by_their_labels(stressed):
    """The brief's Stress test section names each rule as its ranking and tables do, and the
    learners trained under a rule by that rule's label, never by a scenario's name."""
    from coopsim.analysis.rules import group_rules
    from coopsim.record import load_run
    from coopsim.report.content import build_content
    from coopsim.report.model import Paragraph, Table

    _, paths, out = stressed
    labels = {r.scenarios[0]: r.label for r in group_rules([load_run(p) for p in paths])}
    assert set(labels) == {"public_goods_learning", "public_goods_learning_matching"}
    report = build_content([out])
    section = next(s for s in report.sections if s.key == "stress")
    verdict_table, populations = [b.frame for b in section.blocks if isinstance(b, Table)]
    assert sorted(verdict_table["rule"]) == sorted(labels.values())
    assert set(verdict_table["objective"]) == {"equality x productivity"}
    assert set(populations["rule"]) == set(labels.values())
    cross = sorted(set(populations[populations["kind"] == "cross-rule"]["population"]))
    assert cross == sorted(f"trained under {label}" for label in labels.values())
    text = " ".join(b.text for b in section.blocks if isinstance(b, Paragraph))
    for label in labels.values():
        assert f"{label}: equality x productivity " in text
    cells = " ".join(
        str(v) for t in (verdict_table, populations) for v in t.astype(str).to_numpy().ravel()
    )
    for scenario in labels:
        assert scenario not in text and scenario not in cells, scenario


def test_compares_worst_case_column_is_the_stress_tabs_on_the_objective_it_names(
    stressed, monkeypatch
):
    """One worst case per rule: the rules table's column holds the Stress test tab's worst
    case (each rule's own objective over the populations it never met), and its header names
    that objective; the tab names rules and cross-rule populations by the rules' labels."""
    from coopsim.analysis.rules import group_rules, rules_verdict
    from coopsim.app.views.compare import labelled_stress, rules_frame, stress_verdict
    from coopsim.record import load_run

    runs_dir, paths, out = stressed
    monkeypatch.setenv("COOPSIM_RUNS", str(runs_dir))
    runs = [load_run(p) for p in paths]
    frame = pd.read_parquet(out / "stress.parquet")
    rules = group_rules(runs)
    expected = rules_verdict(frame, rules).set_index("rule")
    assert sorted(expected.index) == sorted(r.label for r in rules)
    table = rules_frame(runs, ["net_welfare", "learners_contribution_rate"], stress=frame)
    header = "worst case (equality x productivity)"
    assert header in table.columns
    shown = table.set_index("rule")[header]
    for label, row in expected.iterrows():
        assert float(shown[label]) == pytest.approx(row["worst_case"], rel=1e-3), label
    # the worst case sits beside the stress test's in-distribution value, from the same
    # episodes, not only beside the means over each rule's own evaluation episodes
    home = "stress test's in-distribution (equality x productivity)"
    assert list(table.columns)[-2:] == [home, header]
    for label, row in expected.iterrows():
        value = row["in_distribution"]
        assert float(table.set_index("rule").loc[label, home]) == pytest.approx(value, rel=1e-3)
    tab, names = stress_verdict(frame, runs)
    assert list(tab["objective"]) == ["equality x productivity"] * 2
    for label, row in expected.iterrows():
        assert (
            tab.set_index("rule").loc[label, "worst case"].startswith(f"{row['worst_case']:.4g} ")
        )
    heat = labelled_stress(frame, names)
    assert set(heat["rule"]) == set(names.values())
    assert not any(p.endswith(tuple(names)) for p in heat["population"])
    assert {f"trained under {label}" for label in names.values()} <= set(heat["population"])


def test_a_rule_on_another_objective_is_named_not_mixed_into_the_column():
    """Rules whose objectives differ: the column is on the objective most of them have, and a
    rule trained for another says so instead of giving a number on another scale."""
    from types import SimpleNamespace

    from coopsim.app.views.compare import worst_case_cells

    table = pd.DataFrame(
        {
            "rule": ["a", "b", "c", "a"],
            "measure": ["objective", "objective", "objective", "gini"],
            "worst_case": [0.25, 0.5, 12.0, 0.1],
        }
    )
    rules = [
        SimpleNamespace(label="a", own_objective="equality_times_productivity"),
        SimpleNamespace(label="b", own_objective="equality_times_productivity"),
        SimpleNamespace(label="c", own_objective="net_welfare"),
    ]
    header, cells = worst_case_cells(table, rules)
    assert header == "worst case (equality x productivity)"
    assert cells["a"] == "0.25" and cells["b"] == "0.5"
    assert cells["c"] == "its objective: net welfare"
    assert worst_case_cells(table.assign(worst_case=float("nan")), rules) is None


def test_compare_explains_a_worst_case_above_home_and_which_episodes_each_number_is_from(
    stressed, monkeypatch
):
    """Where a rule's worst case is above its in-distribution value, the Stress test tab says
    why (as ``coopsim stress`` and the brief do), from the stress test's numbers; the rules
    table's caption says the worst case is from the stress test's episodes, not the rule's own
    evaluation episodes the other columns are over."""
    from coopsim.analysis.rules import group_rules
    from coopsim.analysis.stress import stress_labels
    from coopsim.app.views import compare
    from coopsim.record import load_run

    runs_dir, paths, out = stressed
    monkeypatch.setenv("COOPSIM_RUNS", str(runs_dir))
    frame = pd.read_parquet(out / "stress.parquet")
    labels = stress_labels(group_rules([load_run(p) for p in paths]), frame)
    rule = "public_goods_learning"
    objective = (frame["rule"] == rule) & (frame["measure"] == "objective")
    home = frame[objective & (frame["kind"] == "in-distribution")]["mean"].item()
    unseen = objective & frame["kind"].isin(["cross-seed", "cross-rule", "population"])
    above = frame.copy()  # every population the rule never met did better than its own
    above.loc[unseen, ["mean", "ci_low", "ci_high"]] = (home + 10, home + 9, home + 11)
    own = objective & (frame["kind"] == "in-distribution")
    above.loc[own, ["ci_low", "ci_high"]] = (home - 1, home + 1)
    at = AppTest.from_string(PAGE, default_timeout=180).run()
    assert not at.exception, at.exception
    rules_caption = " ".join(c.value for c in at.caption)
    assert "own evaluation episodes" in rules_caption
    assert "stress test's in-distribution column" in rules_caption
    tab = next(t for t in at.tabs if t.label == "Stress test")
    notes = [c.value for c in tab.caption if "is above in-distribution" in c.value]
    assert all(rule not in n for n in notes)  # labels only, whatever the real numbers give
    monkeypatch.setattr(compare, "_stress", lambda folder: above)
    at = AppTest.from_string(PAGE, default_timeout=180).run()
    assert not at.exception, at.exception
    tab = next(t for t in at.tabs if t.label == "Stress test")
    (note,) = [c.value for c in tab.caption if c.value.startswith(f"{labels[rule]}: worst case")]
    assert "is above in-distribution" in note and "each population plays its own episodes" in note
    assert f"{home:.4g}" in note and "the intervals are apart" in note
