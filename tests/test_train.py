"""The training loop: what it stores, what it logs through the declared hooks, what it refuses."""

from __future__ import annotations

import pytest
import torch

from coopsim import scenario as sc
from coopsim.train import Trainer


def small(name: str, **training) -> sc.Scenario:
    data = sc.load(name).to_dict()
    data["training"] = {**data["training"], "num_worlds": 4, "iterations": 2, **training}
    return sc.from_dict(data)


def watch_steps(trainer: Trainer) -> list:
    """Every Step the world returns, recorded as the trainer sees it."""
    steps, step_fn = [], trainer.world.step

    def step(actions):
        out = step_fn(actions)
        steps.append(out)
        return out

    trainer.world.step = step
    return steps


def test_the_world_s_round_metrics_become_columns_over_all_and_over_learning_seats():
    scenario = small("prisoners_dilemma_learning")
    scenario.world.rounds = 5
    trainer = Trainer(scenario)
    steps = watch_steps(trainer)
    row = trainer.train_iteration()
    coop = torch.stack([s.info["contribution"] for s in steps])  # [R, B, 2]; seat 0 learns
    assert row["contribution_rate"] == pytest.approx(float(coop.mean()), abs=1e-6)
    assert row["learner_contribution_rate"] == pytest.approx(float(coop[..., 0].mean()), abs=1e-6)
    rewards = torch.stack([s.reward for s in steps])
    assert row["mean_reward"] == pytest.approx(float(rewards.mean()), rel=1e-6)
    assert row["agent_steps"] == 5 * 4 * 2


def test_a_world_without_round_metrics_or_learning_mechanisms_logs_neither():
    row = Trainer(small("tax_one_step_free_market")).train_iteration()
    assert "contribution_rate" not in row and "elasticity" not in row and "rate_0" not in row


def test_a_mechanism_that_learns_on_its_own_is_logged_through_its_hook():
    trainer = Trainer(small("tax_one_step_saez"))
    row = trainer.train_iteration()
    assert row["elasticity"] == trainer.world.pipeline.find("tax").saez.elasticity
    assert {k: row[k] for k in row if k.startswith("rate_")} == {
        k: v for k, v in trainer.world.pipeline.training_log().items() if k != "elasticity"
    }


def test_storage_holds_each_step_s_active_heads():
    data = sc.load("public_goods_punishment").to_dict()
    data["population"] = [{"policy": "ppo", "count": 4}]
    data["training"] = {"num_worlds": 2, "iterations": 1}
    data["world"]["rounds"] = 3
    trainer = Trainer(sc.from_dict(data))
    trainer.train_iteration()
    (storage,) = trainer.storage
    heads = storage.active.shape[1]
    contribute = [True] + [False] * (heads - 1)
    punish = [False] + [True] * (heads - 1)
    assert storage.active.tolist() == [contribute, punish] * 3  # two stages a round
    assert storage.rewards[0].abs().sum() == 0  # the contribution stage pays nothing yet


def test_an_episode_that_ends_before_the_world_s_horizon_is_refused():
    trainer = Trainer(small("public_goods_learning"))
    step_fn = trainer.world.step

    def step(actions):
        out = step_fn(actions)
        out.done = torch.ones_like(out.done)
        return out

    trainer.world.step = step
    with pytest.raises(RuntimeError, match="'public_goods' world's episode ended at step 1, "):
        trainer.train_iteration()
