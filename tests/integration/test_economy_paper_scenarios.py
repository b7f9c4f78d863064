"""The paper-faithful scenarios keep every mechanic of the AI Economist's setting."""

from __future__ import annotations

import pytest
import torch

from coopsim import scenario as sc
from coopsim.builder import make_world
from mechanisms import RoundContext

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


# redistribution.py, bracket_spacing "us-federal": np.array([0, 9700, 39475, 84200, 160725,
# 204100, 510300]) / usd_scaling (1000)
REFERENCE_CUTOFFS = [0.0, 9.7, 39.475, 84.2, 160.725, 204.1, 510.3]


@pytest.mark.parametrize("name", PAPER)
def test_paper_brackets_are_the_references_cutoffs(name):
    tax = make_world(sc.load(name), 1, "cpu").pipeline.find("tax")
    assert tax.cutoffs.tolist() == pytest.approx(REFERENCE_CUTOFFS, rel=1e-6)


def test_paper_us_federal_taxes_as_the_reference_on_its_brackets():
    # The reference's taxes_due(50.0) on its cutoffs with the 2018 rates:
    # 0.10 x 9.7 + 0.12 x (39.475 - 9.7) + 0.22 x (50 - 39.475) = 0.97 + 3.573 + 2.3155
    s = sc.load("economy_paper_us_federal")
    tax = make_world(s, 1, "cpu").pipeline.find("tax")
    tax.episodes = tax.params.anneal_episodes  # annealing done: the full schedule
    tax.set_rates(tax.uncapped)
    z = torch.tensor([[50.0, 0.0, 0.0, 0.0]])
    flow = tax.apply(
        RoundContext(gross=z, income=z, round=99, rounds=1000, liquid=torch.full_like(z, 99.0))
    )
    assert -flow.transfer[0, 0].item() == pytest.approx(0.97 + 3.573 + 2.3155, rel=1e-5)


def test_paper_saez_is_the_references_formula_and_estimate():
    tax = sc.load("economy_paper_saez").mechanisms[0].params
    assert (tax.saez_formula, tax.elasticity_estimator) == ("binned", "pooled")
    # annealed over as many episodes per world as the planner's cap over its iterations
    planner = sc.load("economy_paper_ai_planner").planner
    assert (tax.anneal_episodes, tax.anneal_from) == (planner.anneal_iterations, 0.1)
    # the fast family keeps its own Saez
    fast = sc.load("economy_saez").mechanisms[0].params
    assert (fast.saez_formula, fast.elasticity_estimator, fast.anneal_episodes) == (
        "cutoff",
        "within",
        0,
    )
