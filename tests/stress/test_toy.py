"""A small learning run: on the toy mixture the worst-case planner keeps the match that
serves the worse population, and the mean planner drops it (:mod:`coopsim.stress.toy`)."""

from __future__ import annotations

import pytest

from coopsim import scenario as sc
from coopsim.stress.experiment import movable_mix
from coopsim.stress.toy import (
    BEST_RATE,
    MOVABLE_BEST,
    chosen_rate,
    chosen_rule,
    movable_toy_scenario,
    toy_scenario,
)


def test_the_toy_mixtures_scenario_loads_with_each_objective():
    for kind in BEST_RATE:
        scenario = toy_scenario(kind, worlds=8, iterations=1)
        assert scenario.planner.robust_objective == kind
        assert scenario.planner.populations == ["hurdle_low"]


@pytest.mark.slow
def test_the_worst_case_planner_serves_the_worse_population_and_the_mean_one_does_not():
    mean, worst = chosen_rate("mean", 0), chosen_rate("worst", 0)
    assert mean <= 0.75  # the mean's best is 0: matching the contributors costs more than it adds
    assert worst >= 1.5  # the minimum's best is 2: every hurdle cleared
    assert worst - mean >= 1.0


def test_the_grid_leaves_the_free_riders_out_of_the_second_toys_mix():
    scenario = movable_toy_scenario(["free_riders", "quantal_noisy"], worlds=8, iterations=1)
    assert scenario.planner.robust_objective == "worst"
    institution = sc.load("public_goods_institution_planner")
    kept, _, _ = movable_mix(institution, ["free_riders", "quantal_noisy"], episodes=4)
    assert kept == ["quantal_noisy"]  # free riders give nothing under every fine


@pytest.mark.slow
def test_the_worst_case_planner_against_the_populations_it_moves_raises_the_fine():
    fine, threshold = chosen_rule(["quantal_noisy"], 0)
    best_fine, best_threshold = MOVABLE_BEST
    assert fine >= best_fine - 0.6 and threshold >= best_threshold - 0.2
