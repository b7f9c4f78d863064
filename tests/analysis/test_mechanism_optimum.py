"""The designed mechanisms' yardstick against hand computation."""

from __future__ import annotations

import pytest

from coopsim import scenario as sc
from coopsim.analysis import optimal_mechanism


def test_matching_pays_only_up_to_the_rate_that_makes_contributing_a_best_response():
    # N = 4, r = 1.6, each unit of sponsor money costs 1.8: a contributed unit returns
    # r(1 + m)/N to its giver, >= 1 from m = 1.5. There all give E = 20 each round, and welfare
    # net of the outlay is 80 (kept 0, pot 1.6 x 80 x (1 + m)) - 1.8 x 80 m = 128 - 16 m per
    # round: falling in m, so the best rate is 1.5 (104 a round; 80 without matching).
    best = optimal_mechanism(sc.load("public_goods_matching_planner"))
    assert best.controls == {"matching.rate": 1.5}
    assert best.objective == pytest.approx(104.0 * 10)
    assert best.contribution == [1.0] * 4
    assert best.candidates == 17 and best.grid["matching.rate"][1] == 0.25


def test_a_costly_sponsor_is_not_worth_paying_for_a_little_cooperation():
    scenario = sc.load("public_goods_matching_planner")
    scenario.planner.sponsor_cost = 4.0  # 128 - 16 m becomes 128 - 192 m: below 80 at 1.5
    best = optimal_mechanism(scenario)
    assert best.controls == {"matching.rate": 0.0}
    assert best.objective == pytest.approx(80.0 * 10) and best.contribution == [0.0] * 4


def test_institution_fines_just_enough_and_democratic_rules_win_every_vote():
    best = optimal_mechanism(sc.load("public_goods_institution_planner"))
    fine = best.controls["sanction_institution.fine"]
    # contributing a unit returns 0.4 + fine x (1 - 1/4) (the fine comes back as a rebate)
    assert 0.4 + 0.75 * fine >= 1 and best.objective == pytest.approx(1.0)
    votes = optimal_mechanism(sc.load("democratic_ai_planner"))
    assert votes.objective == pytest.approx(1.0)  # all better off than strict egalitarian's 0
    assert votes.controls["redistribution.w"] < 1


def test_refuses_worlds_it_cannot_solve():
    with pytest.raises(ValueError, match="public-goods scenarios with a"):
        optimal_mechanism(sc.load("tax_one_step_ai_planner"))


def test_a_knife_edge_best_rule_comes_with_the_best_rule_whose_equilibrium_is_strict():
    # At m = 1.5 a contributed unit returns exactly 1: contributing is only weakly best. The
    # best strict rule is the next rate, 1.75 (a unit returns 1.1): 128 - 16 x 1.75 = 100.
    best = optimal_mechanism(sc.load("public_goods_matching_planner"))
    assert not best.strict
    assert best.robust.strict and best.robust.controls == {"matching.rate": 1.75}
    assert best.robust.objective == pytest.approx(100.0 * 10)
    assert best.robust.contribution == [1.0] * 4
    assert best.yardstick is best.robust
    # the institution's least fine, 0.8, leaves a unit returning 0.4 + 0.75 x 0.8 = 1 too
    institution = optimal_mechanism(sc.load("public_goods_institution_planner"))
    assert not institution.strict
    assert institution.robust.controls["sanction_institution.fine"] == pytest.approx(1.0)
    assert institution.yardstick.objective == pytest.approx(1.0)


def test_a_strict_best_rule_is_its_own_yardstick():
    scenario = sc.load("public_goods_matching_planner")
    scenario.planner.sponsor_cost = 4.0  # nobody contributes, with no match: strictly best
    best = optimal_mechanism(scenario)
    assert best.strict and best.robust is None and best.yardstick is best
