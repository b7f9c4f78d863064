"""The paper-faithful scenarios keep every mechanic of the AI Economist's setting."""

from __future__ import annotations

import pytest

from coopsim import scenario as sc

PAPER = ["economy_paper_free_market", "economy_paper_us_federal", "economy_paper_saez"]
PAPER.append("economy_paper_ai_planner")


@pytest.mark.parametrize("name", PAPER)
def test_paper_scenarios_set_the_references_mechanics(name):
    s = sc.load(name)
    w = s.world
    assert (w.layout, w.map_name) == ("builtin", "simple_wood_and_stone")
    assert (w.skills, w.gather_bonus, w.gathering) == ("fixed_four", "pareto", "auto")
    labour = (w.move_labour, w.gather_labour, w.build_labour, w.order_labour, w.labour_cost)
    assert labour == (1.0, 1.0, 10.0, 0.25, 0.21)
    assert (w.max_orders, w.order_limit, w.order_duration) == (5, "per_resource", 51)
    assert (w.same_step_price, w.eta, w.episode_length, w.num_agents) == ("ask", 0.23, 1000, 4)
    tax = s.mechanisms[0]
    assert (tax.kind, tax.params.period, tax.params.scale) == ("tax", 100, 0.001)
    assert (tax.params.income, tax.params.cap) == ("net_coin", "liquid")
    assert [m.kind for m in s.mechanisms] == ["tax", "lump_sum"]


def test_the_planner_scenario_runs_the_two_phase_curriculum():
    s = sc.load("economy_paper_ai_planner")
    p, t = s.planner, s.training
    assert 0 < t.labour_warmup <= p.phase1_iterations < t.iterations
    assert p.period == 100 and p.anneal_iterations > 0 and p.initial_max_rate < 1
    assert p.rate_levels == 21  # the reference's 0.05 rate steps
