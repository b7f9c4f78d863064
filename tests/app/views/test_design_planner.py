"""The Design page's planner: a switch per controllable parameter, the range it searches, the
objective as a select box, and designs that load and run."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from coopsim import scenario as sc
from coopsim.config.planner import OBJECTIVES
from coopsim.record import load_run
from coopsim.runner import run_scenario

PLANNER_SCENARIOS = {
    "public_goods_matching_planner": {"rate": True},
    "public_goods_institution_planner": {"threshold": True, "fine": True, "fee": False},
    "democratic_ai_planner": {"w": True, "v": True},
    "tax_one_step_ai_planner": {"rates": True},
    "commons_planner": {"cap_per_step": True},
}


pytestmark = pytest.mark.usefixtures("runs_env")


def switches(at: AppTest) -> dict[str, bool]:
    prefix = "Let the planner choose "
    return {t.label.removeprefix(prefix): t.value for t in at.toggle if t.label.startswith(prefix)}


def by_label(elements, label: str):
    found = [e for e in elements if e.label == label]
    assert found, f"no widget labelled {label!r}; have {[e.label for e in elements]}"
    return found[0]


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


@pytest.mark.parametrize("name", PLANNER_SCENARIOS)
def test_planner_scenarios_open_with_their_switches_on_and_keep_their_meaning(name, design_page):
    at = design_page(name)
    assert not at.exception and not errors(at)
    assert switches(at) == PLANNER_SCENARIOS[name]
    design = at.session_state["design"]
    # The form's planner resolves to the file's: same controls in the same order, same grid.
    assert sc.from_dict(design).to_dict() == sc.load(name).to_dict()


def test_switching_a_control_on_adds_a_planner_that_loads_and_runs(runs_env, design_page):
    at = design_page("public_goods_matching")
    assert switches(at) == {"rate": False}
    assert "planner" not in at.session_state["design"]
    assert not [s for s in at.selectbox if s.label == "Objective" and s.key.endswith("planner")]
    at.toggle(key="r2.m0.matching.plan.rate").set_value(True).run()
    assert not errors(at), errors(at)
    planner = at.session_state["design"]["planner"]
    assert planner["controls"] == ["matching.rate"]
    assert "grid" not in planner  # the declared bounds, 0 to 100: nothing to narrow
    # The range editor starts at the declared bounds; narrowing it writes [planner.grid].
    assert at.text_input(key="r2.m0.matching.plan.rate.low").value == "0.0"
    assert at.text_input(key="r2.m0.matching.plan.rate.high").value == "100.0"
    at.text_input(key="r2.m0.matching.plan.rate.high").set_value("4.0").run()
    objective = at.selectbox(key="r2.planner.objective")
    assert objective.options == [o.replace("_", " ") for o in OBJECTIVES]
    # Fields an objective reads appear only with it.
    assert not [n for n in at.text_input if n.label == "Sponsor cost"]
    objective.set_value("net_welfare").run()
    by_label(at.text_input, "Sponsor cost").set_value("1.8").run()
    assert not errors(at), errors(at)
    # An optional field left empty stays unset, not 0.
    assert at.text_input(key="r2.planner.num_minibatches").value == ""

    design = at.session_state["design"]
    assert design["planner"]["grid"] == {"matching.rate": [0.0, 4.0]}
    assert design["planner"]["objective"] == "net_welfare"
    assert design["planner"]["sponsor_cost"] == pytest.approx(1.8)
    assert "num_minibatches" not in design["planner"]
    scenario = sc.from_dict(design)
    (target,) = sc.resolve_controls(scenario.planner, scenario.mechanisms)
    assert (target.name, target.low, target.high) == ("matching.rate", 0.0, 4.0)
    assert scenario.training is not None  # a planner trains: the page now shows [training]
    assert any(s.value == "Training" for s in at.subheader)

    # A few iterations of the generated scenario, run as the Run page would.
    design["training"].update(iterations=2, num_worlds=4)
    design["planner"].update(phase1_iterations=0, anneal_iterations=0)
    out = run_scenario(sc.from_dict(design), seed=0, out=runs_env, episodes=2)
    log = load_run(out).training_log
    assert {"rate_0", "objective"} <= set(log.columns)
    assert log["rate_0"].between(0.0, 4.0).all()

    # Every switch off: no planner.
    at.toggle(key="r2.m0.matching.plan.rate").set_value(False).run()
    assert "planner" not in at.session_state["design"]
    assert not errors(at)


def test_votes_offer_the_controlled_mechanisms_presets_as_baseline(design_page):
    at = design_page("democratic_strict_egalitarian")
    at.toggle(key="r2.m0.redistribution.plan.w").set_value(True).run()
    at.toggle(key="r2.m0.redistribution.plan.v").set_value(True).run()
    assert not [s for s in at.selectbox if s.label == "Baseline"]
    at.selectbox(key="r2.planner.objective").set_value("votes").run()
    baseline = by_label(at.selectbox, "Baseline")
    assert baseline.options == ["strict_egalitarian", "libertarian", "liberal_egalitarian"]
    baseline.set_value("libertarian").run()
    assert not errors(at), errors(at)
    planner = sc.from_dict(at.session_state["design"]).planner
    assert planner.controls == ["redistribution.w", "redistribution.v"]
    assert (planner.objective, planner.baseline) == ("votes", "libertarian")
    # Switching v off keeps w; the order is the order switched on.
    at.toggle(key="r2.m0.redistribution.plan.v").set_value(False).run()
    assert at.session_state["design"]["planner"]["controls"] == ["redistribution.w"]


def test_a_mix_takes_the_weights_given_and_leaves_the_rest_out(design_page):
    at = design_page("public_goods_institution_planner")
    at.selectbox(key="r2.planner.objective").set_value("mix").run()
    at.text_input(key="r2.planner.weights.utilitarian").set_value("1.0").run()
    at.text_input(key="r2.planner.weights.contribution_rate").set_value("50.0").run()
    assert not errors(at), errors(at)
    planner = sc.from_dict(at.session_state["design"]).planner
    assert planner.weights == {"utilitarian": 1.0, "contribution_rate": 50.0}


def test_an_unbounded_control_gets_a_range_to_start_from(design_page):
    at = design_page("public_goods_institution_planner")
    at.toggle(key="r2.m0.sanction_institution.plan.fee").set_value(True).run()
    # The fee declares no upper bound: the editor starts at [0, 1] and writes it.
    assert at.text_input(key="r2.m0.sanction_institution.plan.fee.high").value == "1.0"
    assert not errors(at), errors(at)
    planner = at.session_state["design"]["planner"]
    assert planner["controls"][-1] == "sanction_institution.fee"
    assert planner["grid"]["sanction_institution.fee"] == [0.0, 1.0]
    # A range outside the declared bounds gets the loader's message.
    at.text_input(key="r2.m0.sanction_institution.plan.fee.low").set_value("-1.0").run()
    (shown,) = errors(at)
    assert "planner.grid.sanction_institution.fee" in shown


def test_a_tax_planner_starts_at_the_taxs_period(design_page):
    at = design_page("economy_free_market")  # a tax settling every 100 steps, rates at 0
    at.toggle(key="r2.m0.tax.plan.rates").set_value(True).run()
    assert at.session_state["design"]["planner"]["period"] == 100
    assert at.text_input(key="r2.planner.period").value == "100"
    assert not errors(at), errors(at)
