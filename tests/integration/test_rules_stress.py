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
    # free riders contribute nothing, whatever the rule: the worst contribution rate is 0
    assert (rows["worst_case"] == 0).all() and (rows["worst_population"] == "free_riders").all()
    assert "contribution_rate_worst_case" in wide(table)
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
        "rule", "in-distribution", "worst case", "10th percentile", "exploitability",
    ]  # fmt: skip
    assert sorted(table["rule"]) == sorted(names.values())
    assert table["exploitability"].str.contains("per seat").all()

    at = AppTest.from_string(PAGE, default_timeout=180).run()
    assert not at.exception, at.exception
    assert sorted(at.multiselect[0].value) == sorted(str(p.name) for p in paths)
    rules = at.table[0].value
    column = [c for c in rules.columns if c.startswith("worst case, stress test")]
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
