"""The report's Social dilemma section: one Schelling diagram per commons rule set reported."""

from __future__ import annotations

import pytest

from coopsim import scenario as sc
from coopsim.analysis.schelling import schelling
from coopsim.report import schelling_section
from coopsim.report.content import build_content
from coopsim.runner import run_scenario


def _commons(name: str, mechanisms: list[dict]) -> sc.Scenario:
    return sc.from_dict(
        {
            "name": name,
            "world": {"kind": "commons", "num_agents": 3, "episode_length": 60},
            "mechanisms": mechanisms,
            "population": [{"policy": "greedy_harvester", "count": 3}],
            "evaluation": {"episodes": 2, "seed": 0},
        }
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    plain = _commons("commons_plain", [])
    quota = _commons("commons_capped", [{"kind": "quota", "cap": 2.0, "period": 20}])
    return [run_scenario(s, out=out, seed=seed) for s in (plain, quota) for seed in (0, 1)]


def test_one_diagram_per_rule_set_with_the_runs_it_covers(runs):
    report = build_content(runs)
    keys = [s.key for s in report.sections]
    assert keys.index("schelling") > keys.index("figures")
    (section,) = [s for s in report.sections if s.key == "schelling"]
    figures = [b for b in section.blocks if hasattr(b, "figure")]
    assert len(figures) == 2  # two seeds of each rule set share a diagram
    # The diagram is the analysis's own, at the report's budget, on the run's world.
    expected = schelling(_commons("commons_plain", []), episodes=schelling_section.EPISODES)
    (drawn,) = [f for f in figures if "commons_plain" in f.caption]
    cooperator = drawn.figure.axes[0].get_lines()[0]
    assert list(cooperator.get_ydata()) == pytest.approx(list(expected.cooperator))
    verdict = "a social dilemma" if expected.criteria()["social_dilemma"] else "no social dilemma"
    assert verdict in drawn.caption


def test_reports_without_a_commons_run_have_no_such_section(tmp_path):
    pg = run_scenario(sc.load("public_goods"), out=tmp_path, episodes=2)
    assert "schelling" not in [s.key for s in build_content([pg]).sections]
