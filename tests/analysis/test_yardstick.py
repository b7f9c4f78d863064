"""The yardstick a planner is drawn against: which scenarios have one, what it is, and that a
scenario's seeds share one search."""

from __future__ import annotations

import pytest

from coopsim import scenario as sc
from coopsim.analysis.yardstick import Yardstick, yardstick


def test_the_matching_planners_yardstick_is_the_hand_computed_robust_rate():
    # N = 4, r = 1.6, sponsor money at 1.8 a unit: at m = 1.5, r(1 + m)/N = 1 and contributing
    # only breaks even, so the planner is held to the smallest rate on the grid where it pays
    # strictly: m = 1.75.
    best = yardstick(sc.load("public_goods_matching_planner").to_dict())
    assert isinstance(best, Yardstick)
    assert best.controls == pytest.approx((1.75,))
    assert best.solver == "optimal_mechanism" and best.objective_name == "net_welfare"
    # Everyone contributes all 20 a round: the pot 1.6 x (80 + 1.75 x 80) pays each agent 88,
    # 3520 coins in 10 rounds, less the match (1.75 x 80 x 10 = 1400) at 1.8 a unit.
    assert best.objective == pytest.approx(4 * 88 * 10 - 1.8 * 1400)


def test_a_tax_planner_gets_one_rate_per_bracket():
    best = yardstick(sc.load("tax_one_step_ai_planner").to_dict())
    assert isinstance(best, Yardstick) and best.solver == "optimal_schedule"
    assert len(best.controls) == 7 and all(0 <= r <= 1 for r in best.controls)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("commons_planner", "no yardstick is computed for 'commons' worlds"),
        ("public_goods", "the run has no planner"),
    ],
)
def test_scenarios_without_a_yardstick_say_why(name, why):
    assert yardstick(sc.load(name).to_dict()) == why


def test_a_narrowed_tax_grid_is_not_compared_with_the_full_one():
    data = sc.load("tax_one_step_ai_planner").to_dict()
    data["planner"]["grid"] = {"tax.rates": [0.0, 0.5]}
    assert "over 0 to 1" in yardstick(data)


def test_seeds_of_one_scenario_share_one_search():
    data = sc.load("public_goods_institution_planner").to_dict()
    first = yardstick(data)
    other_seed = {
        **data,
        "training": {**data["training"], "seed": 7},
        "evaluation": {**data["evaluation"], "seed": 7},
    }
    assert yardstick(other_seed) is first
    narrower = {**data, "planner": {**data["planner"], "rate_levels": 3}}
    assert yardstick(narrower) is not first
