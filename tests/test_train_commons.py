"""Learning on the commons at a small budget: the tragedy without a rule, the stock kept
under a quota.

One 13-apple patch, three PPO agents, 60-step episodes: small enough to train in seconds,
and enough for agents with no rule to learn to strip the patch. The same agents trained
under a quota of one apple each per 20 steps cannot take more than 9 of the 13 apples, so
the patch keeps apples near enough to regrow.
"""

from __future__ import annotations

import pytest

from coopsim import scenario as sc
from coopsim.train import Trainer, evaluate_trained

PATCH = """
.......
...A...
..AAA..
.AAAAA.
..AAA..
...A...
.......
P.P.P.P
"""


def patch_scenario(mechanisms: list[dict]) -> sc.Scenario:
    return sc.from_dict(
        {
            "name": "commons_patch",
            "world": {
                "kind": "commons",
                "num_agents": 3,
                "map_text": PATCH,
                "episode_length": 60,
                "view_radius": 3,
                "tagging": False,
            },
            "mechanisms": mechanisms,
            "population": [{"policy": "ppo", "count": 3}],
            "training": {
                "iterations": 15,
                "num_worlds": 8,
                "update_epochs": 2,
                "num_minibatches": 2,
                "learning_rate": 0.003,
                "hidden": 32,
                "seed": 0,
            },
            "evaluation": {"episodes": 16, "seed": 0},
        }
    )


@pytest.fixture(scope="module")
def trained():
    out = {}
    for name, mechanisms in (
        ("none", []),
        ("quota", [{"kind": "quota", "cap": 1, "period": 20}]),
    ):
        trainer = Trainer(patch_scenario(mechanisms))
        rows = trainer.train()
        out[name] = (rows, evaluate_trained(trainer).summary)
    return out


def test_agents_learn_to_harvest(trained):
    rows, _ = trained["none"]
    first = sum(r["agents_return"] for r in rows[:3]) / 3
    last = sum(r["agents_return"] for r in rows[-3:]) / 3
    assert last > first + 0.5  # apples per agent per episode


def test_a_quota_keeps_the_stock_that_learners_strip_without_one(trained):
    none, quota = trained["none"][1], trained["quota"][1]
    assert none["final_stock"]["mean"] < 2.0  # the patch is (nearly) gone
    assert quota["final_stock"]["ci_low"] > none["final_stock"]["ci_high"] + 2.0
    assert quota["mean_stock"]["ci_low"] > none["mean_stock"]["ci_high"]
    assert quota["sustainability"]["mean"] > none["sustainability"]["mean"]
