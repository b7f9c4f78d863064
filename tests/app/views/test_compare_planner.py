"""The Compare page's Planner tab: what each planner run chose over training."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from coopsim import scenario as sc
from coopsim.runner import run_scenario

TIMEOUT = 60


@pytest.fixture(autouse=True)
def runs_env(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPSIM_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("COOPSIM_DESIGNS", str(tmp_path / "designs"))
    return tmp_path / "runs"


def compare_page() -> AppTest:
    script = (
        "from coopsim.app import state\n"
        "from coopsim.app.views import compare\n"
        "state.init()\n"
        "compare.render()\n"
    )
    return AppTest.from_string(script, default_timeout=TIMEOUT)


def test_the_planner_tab_draws_each_planner_run(runs_env):
    data = sc.load("public_goods_matching_planner").to_dict()
    data["training"].update(iterations=2, num_worlds=4)
    run_scenario(sc.from_dict(data), seed=0, out=runs_env, episodes=2)
    run_scenario(sc.load("public_goods"), seed=0, out=runs_env, episodes=2)
    at = compare_page().run()
    assert not at.exception
    planner_tab = next(t for t in at.tabs if t.label == "Planner")
    assert len(planner_tab.get("image")) == 1  # one figure: the one run with a planner
    assert not planner_tab.info


def test_without_a_planner_the_tab_says_so(runs_env):
    run_scenario(sc.load("public_goods"), seed=0, out=runs_env, episodes=2)
    at = compare_page().run()
    planner_tab = next(t for t in at.tabs if t.label == "Planner")
    assert "None of these runs has a planner" in planner_tab.info[0].value
