"""The commons on the Design page: its scenarios, its fields (a map over several lines, lists,
switches, whole numbers), its mechanisms, and a design that runs."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from coopsim import scenario as sc
from coopsim.record import load_run
from coopsim.runner import run_scenario

COMMONS_SCENARIOS = [n for n in sc.list_scenarios() if n.startswith("commons")]
SMALL_MAP = "WWWWWWW\nW.AAA.W\nW.P.P.W\nWWWWWWW"


pytestmark = pytest.mark.usefixtures("runs_env")


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def add_mechanism(at: AppTest, kind: str) -> None:
    at.selectbox(key="add_mechanism_kind").set_value(kind).run()
    next(b for b in at.button if b.label == "Add mechanism").click().run()


def test_every_commons_scenario_is_offered():
    assert set(COMMONS_SCENARIOS) >= {
        "commons",
        "commons_quota",
        "commons_tax",
        "commons_sanctions",
        "commons_planner",
    }


@pytest.mark.parametrize("name", COMMONS_SCENARIOS)
def test_commons_scenarios_open_valid_and_unchanged(name, design_page):
    at = design_page(name)
    assert not at.exception and not errors(at), errors(at)
    assert at.selectbox(key="r2.world.kind").value == "commons"
    assert sc.from_dict(at.session_state["design"]).to_dict() == sc.load(name).to_dict()


def test_edit_the_commons_add_its_rules_and_run_it(runs_env, design_page):
    at = design_page("commons")
    world = "r2.world.commons"
    # A map is text over several lines: a one-line box would flatten it.
    assert at.text_area(key=f"{world}.map_text").value == ""
    at.text_area(key=f"{world}.map_text").set_value(SMALL_MAP).run()
    at.text_input(key=f"{world}.num_agents").set_value("2").run()
    at.text_input(key="r2.p0.count").set_value("2").run()
    at.text_input(key=f"{world}.episode_length").set_value("30").run()  # a whole number
    at.checkbox(key=f"{world}.tagging").set_value(False).run()  # a switch
    at.text_input(key=f"{world}.regrowth_probabilities").set_value("0, 0.01, 0.05").run()
    assert not errors(at), errors(at)
    add_mechanism(at, "quota")  # the institution: a quota fined rather than enforced
    at.selectbox(key="r2.m1001.quota.enforcement").set_value("fine").run()
    at.text_input(key="r2.m1001.quota.period").set_value("10").run()
    add_mechanism(at, "extraction_tax")
    add_mechanism(at, "lump_sum")  # revenue rebated
    assert not errors(at), errors(at)

    design = at.session_state["design"]
    scenario = sc.from_dict(design)
    assert scenario.world.map_text == SMALL_MAP
    assert scenario.world.regrowth_probabilities == [0.0, 0.01, 0.05]
    assert (scenario.world.episode_length, scenario.world.tagging) == (30, False)
    assert [m.kind for m in scenario.mechanisms] == ["quota", "extraction_tax", "lump_sum"]
    assert scenario.mechanisms[0].params.enforcement == "fine"

    design["training"].update(iterations=1, num_worlds=2)
    out = run_scenario(sc.from_dict(design), seed=0, out=runs_env, episodes=2)
    run = load_run(out)
    assert run.summary["episodes"] == 2
    transfers = [c for c in run.episodes.columns if c.startswith("transfer_")]
    assert any("extraction_tax" in c for c in transfers), transfers


def test_a_bad_map_gets_the_loaders_message(design_page):
    at = design_page("commons")
    at.text_area(key="r2.world.commons.map_text").set_value("WWWWW\nW.A.W\nWWWWW").run()
    (shown,) = errors(at)
    assert shown.startswith("error: design: world: ") and "spawn points" in shown


def test_changing_the_world_to_the_commons_keeps_what_applies(design_page):
    at = design_page("public_goods_matching")  # scripted public-goods players, a match
    at.selectbox(key="r2.world.kind").set_value("commons").run()
    assert not at.exception and not errors(at), errors(at)
    design = at.session_state["design"]
    assert design["world"]["kind"] == "commons"
    assert "mechanisms" not in design  # matching pays into a public-goods pot only
    assert design["population"] == [{"policy": "ppo", "count": 5}]
    assert sc.from_dict(design).training is not None
    add_mechanism(at, "quota")
    assert [m["kind"] for m in at.session_state["design"]["mechanisms"]] == ["quota"]
    assert not errors(at), errors(at)
