"""The optimal-tax yardstick: best responses by hand, equilibria checked by deviation, search."""

from __future__ import annotations

import pytest
import torch

from coopsim import analysis, builder
from coopsim import scenario as sc
from coopsim.analysis.optimal import equilibrium
from coopsim.evaluate import evaluate

ETA = 0.23
US_CUTOFFS = [0.0, 9525.0, 38700.0, 82500.0, 157500.0, 200000.0, 500000.0]
US_RATES = [0.10, 0.12, 0.22, 0.24, 0.32, 0.35, 0.37]


def economy(skills, labour_cost, population=None, planner=True, **world) -> sc.Scenario:
    """A one-step economy with the US brackets (rates to be chosen) and an equal rebate."""
    data = {
        "name": "t",
        "description": "t",
        "world": {"kind": "one_step_economy", "num_agents": len(skills), "skills": skills,
                  "max_skill": max(skills), "labour_cost": labour_cost, **world},
        "mechanisms": [
            {"kind": "tax", "brackets": US_CUTOFFS, "rates": [0.0] * 7, "scale": 0.001},
            {"kind": "lump_sum"},
        ],
        "population": population or [{"policy": "ppo", "count": len(skills)}],
    }  # fmt: skip
    if planner:
        data["planner"] = {"objective": "equality_times_productivity"}
    return sc.from_dict(data)


def utility(coin: float, hours: float, cost: float) -> float:
    return (coin ** (1 - ETA) - 1) / (1 - ETA) - cost * hours


def best_hours(skill: float, cost: float) -> float:
    """Free-market best response by enumeration of the 11 choices 0, 10, ..., 100 hours."""
    return max((10.0 * k for k in range(11)), key=lambda h: utility(skill * h, h, cost))


def test_single_agent_best_response_by_hand():
    # Alone, the agent gets its whole tax back, so every schedule leaves it the free market's
    # choice; equality of one agent is 1, so the objective is its coin.
    hours = best_hours(2.0, 1.0)
    assert 0.0 < hours < 100.0  # an interior choice, not a corner of the grid
    scenario = economy([2.0], 1.0)
    for rates in ([0.0] * 7, US_RATES, [0.5] * 7):
        eq = equilibrium(scenario, rates)
        assert eq.info["labour"][0].tolist() == [hours]
        assert bool(eq.converged[0])
    best = analysis.optimal_schedule(scenario)
    assert best.labour == [hours]
    assert best.objective == pytest.approx(2.0 * hours)
    assert best.utility[0] == pytest.approx(utility(2.0 * hours, hours, 1.0), rel=1e-5)


def test_identical_agents_are_best_left_untaxed():
    # Identical agents end up equal whatever the schedule (equality 1), and taxes can only
    # weaken the reason to work, so the optimum is the free market's output, 2 x skill x hours.
    hours = best_hours(1.5, 0.5)
    scenario = economy([1.5, 1.5], 0.5)
    free = equilibrium(scenario, [0.0] * 7)
    assert free.info["labour"][0].tolist() == [hours, hours]
    best = analysis.optimal_schedule(scenario)
    assert best.objective == pytest.approx(2 * 1.5 * hours)
    assert best.labour == [hours, hours]


def test_equilibrium_leaves_no_profitable_deviation():
    """Checked directly in the scenario's world, one deviation per agent and labour choice."""
    scenario = sc.load("tax_one_step_ai_planner")
    best = analysis.optimal_schedule(scenario)
    n, levels = scenario.num_agents, scenario.world.labour_levels
    hours = torch.linspace(0, scenario.world.max_labour, levels)
    choice = torch.tensor([int((hours == h).nonzero()) for h in best.labour])  # [N]
    trial = choice.repeat(n * levels, 1)  # [N * L, N]: agent i tries level l
    agent = torch.arange(n).repeat_interleave(levels)
    trial[torch.arange(n * levels), agent] = torch.arange(levels).repeat(n)
    world = builder.make_world(scenario, n * levels)
    world.reset(seed=0)
    world.pipeline.mechanisms[0].set_rates(torch.tensor(best.rates))
    step = world.step(trial[..., None])
    deviating = step.reward[torch.arange(n * levels), agent].reshape(n, levels)  # [N, L]
    assert (deviating <= torch.tensor(best.utility)[:, None] + 1e-4).all()
    assert deviating.max(-1).values.tolist() == pytest.approx(best.utility, rel=1e-6)


def test_optimum_beats_the_simple_schedules():
    scenario = sc.load("tax_one_step_ai_planner")
    best = analysis.optimal_schedule(scenario)
    flat = [[r / 20] * 7 for r in range(21)]  # every flat schedule, the free market first
    others = equilibrium(scenario, [*flat, US_RATES]).objective
    assert best.objective >= float(others.max()) - 1e-9
    assert best.objective > 1.1 * float(others[0])  # redistribution is worth something here
    # brackets nobody can reach (income is at most 3 x 100 hours) repeat the rate below them
    assert best.cutoffs[-1] > 300.0 and best.rates[-1] == best.rates[-2]
    assert best.grid == pytest.approx([r / 20 for r in range(21)])
    assert sum(best.coin) == pytest.approx(sum(best.income), rel=1e-5)  # rebated in full


def test_search_agrees_with_exhaustive_enumeration():
    scenario = sc.load("tax_one_step_ai_planner")
    exact = analysis.optimal_schedule(scenario, rate_levels=5)  # 5^6 schedules: all of them
    searched = analysis.optimal_schedule(scenario, rate_levels=5, max_exhaustive=0)
    assert exact.method == "exhaustive" and exact.candidates == 5**6
    assert searched.method == "differential_evolution"
    assert searched.objective == pytest.approx(exact.objective)


def test_objective_is_what_evaluate_reports():
    # Everyone works the full 100 hours under no tax (the free-market equilibrium here), which
    # the scripted "always_contribute" policy plays in this world.
    scenario = economy(
        [1.0, 1.5, 2.0, 3.0], 0.3, population=[{"policy": "always_contribute", "count": 4}],
        planner=False,
    )  # fmt: skip
    eq = equilibrium(scenario, [0.0] * 7)
    assert eq.info["labour"][0].tolist() == [100.0] * 4
    result = evaluate(scenario, episodes=3)
    assert result.summary["objective"]["mean"] == pytest.approx(float(eq.objective[0]))


def test_refuses_other_worlds_and_pipelines():
    with pytest.raises(ValueError, match="one_step_economy"):
        analysis.optimal_schedule(sc.load("public_goods_tax"))
    scenario = economy([1.0, 2.0], 0.3)
    scenario.mechanisms = scenario.mechanisms[1:]
    with pytest.raises(ValueError, match="tax"):
        analysis.optimal_schedule(scenario)
