"""Small trained runs to stress: a planner's rule at two training seeds, two fixed rules whose
learners fit each other's worlds, and a scripted run of altruists for the exploiter."""

from __future__ import annotations

from pathlib import Path

import pytest

from coopsim import scenario as sc
from coopsim.runner import run_scenario

TINY = {"num_worlds": 8, "iterations": 3}


def _tiny(name: str) -> sc.Scenario:
    scenario = sc.load(name)
    scenario.training.num_worlds = TINY["num_worlds"]
    scenario.evaluation.episodes = 4
    return scenario


@pytest.fixture(scope="session")
def stress_runs(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("stress-runs")
    found = {}
    for seed in (0, 1):
        found[f"planner-s{seed}"] = run_scenario(
            _tiny("public_goods_matching_planner"),
            seed=seed,
            out=out,
            iterations=TINY["iterations"],
        )
    for name in ("public_goods_learning_matching", "public_goods_learning"):
        found[name] = run_scenario(_tiny(name), seed=0, out=out, iterations=TINY["iterations"])
    return found


ALTRUISTS = {
    "name": "altruists_no_rule",
    "world": {"kind": "public_goods", "num_agents": 4, "endowment": 20.0, "multiplier": 1.6,
              "rounds": 10, "levels": 21},
    "population": [{"policy": "always_contribute", "count": 4}],
    "training": {"num_worlds": 64, "gamma": 0.5, "learning_rate": 0.01, "ent_coef": 0.01,
                 "reward_scale": 0.02},
    "evaluation": {"episodes": 16, "seed": 0},
}  # fmt: skip


@pytest.fixture(scope="session")
def altruists_run(tmp_path_factory) -> Path:
    """Four scripted altruists under no mechanism: free riding on them pays 12 coin a round."""
    out = tmp_path_factory.mktemp("altruists")
    return run_scenario(sc.from_dict(ALTRUISTS), out=out)
