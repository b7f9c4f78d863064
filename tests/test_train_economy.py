"""Training on the gather-trade-build economy: conv learners, labour warm-up, a planner per period."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from coopsim import metrics
from coopsim import scenario as sc
from coopsim.agents.ppo import MapEncoder
from coopsim.schema import ConfigError
from coopsim.train import Trainer

TINY = {
    "name": "economy_tiny",
    "description": "two agents on a 3x4 map, 20-step episodes, taxed every 10 steps",
    "world": {
        "kind": "economy",
        "num_agents": 2,
        "layout": "text",
        "map_text": "w.s.\n....\ns.w.",
        "episode_length": 20,
        "view_radius": 1,
        "regen_prob": 0.5,
        "build_skills": [1.0, 2.5],
        "gather_skills": [0.0, 0.5],
    },
    "mechanisms": [
        {"kind": "tax", "brackets": [0.0, 5.0], "rates": [0.0, 0.0], "period": 10},
        {"kind": "lump_sum"},
    ],
    "population": [{"policy": "ppo", "count": 2}],
    "training": {
        "iterations": 3,
        "num_worlds": 4,
        "update_epochs": 1,
        "num_minibatches": 2,
        "hidden": 8,
        "reward_scale": 0.1,
        "labour_warmup": 1,
    },
    "planner": {
        "mechanism": "tax",
        "period": 10,
        "phase1_iterations": 1,
        "anneal_iterations": 1,
        "initial_max_rate": 0.5,
        "hidden": 8,
    },
    "evaluation": {"episodes": 2},
}


def test_planner_sets_rates_each_period_and_is_paid_the_objective_of_the_period():
    trainer = Trainer(sc.from_dict(TINY))
    world = trainer.world
    learner, _ = trainer.learners[0]
    assert isinstance(learner.net.trunk, MapEncoder)  # the economy has a map
    before = [p.detach().clone() for p in learner.net.parameters()]
    # Watch what the learners saw and what each step paid, without changing either.
    seen, steps = [], []
    step_fn, act_fn = world.step, learner.step

    def step(actions):
        out = step_fn(actions)
        steps.append(out.info)
        return out

    def act(obs, mask=None, active=None):
        rates_seen = obs[:, :, world.layout.slices["mechanisms"]][
            ..., : trainer.world.pipeline.find("tax").num_brackets
        ]
        seen.append((rates_seen.clone(), trainer.world.pipeline.find("tax").rates))
        return act_fn(obs, mask, active)

    world.step, learner.step = step, act

    row = trainer.train_iteration()  # phase 1: labour free, no tax
    assert world.labour_scale == 0.0 and row["max_rate"] == 0.0
    assert (trainer.world.pipeline.find("tax").rates == 0).all() and "objective" not in row
    seen.clear(), steps.clear()

    row = trainer.train_iteration()  # phase 2: the planner acts at steps 0 and 10
    assert world.labour_scale == 1.0 and row["max_rate"] == pytest.approx(0.5)
    assert {"planner_policy_loss", "rate_0", "rate_1"} <= set(row)
    assert 0 <= row["rate_0"] <= 0.5 and 0 <= row["rate_1"] <= 0.5
    assert (
        trainer.world.pipeline.find("tax").rates.abs().sum() > 0
    )  # a planner drawing 0 in all 8 heads: ~1e-8
    # agents decide under the rates just set, from the first step of each period on
    for obs_rates, rates in seen:
        assert torch.equal(obs_rates, rates[:, None, :].expand(-1, 2, -1))
    assert len(steps) == 20
    # the planner's reward: equality x productivity of what agents kept over each period
    objectives = []
    for start in (0, 10):
        kept = sum(s["net"] for s in steps[start : start + 10])  # [B, N], taxes and rebate in
        objectives.append(metrics.equality_times_productivity(kept.clamp(min=0)))
        taxed = steps[start + 9]["transfer_tax"]
        rebate = steps[start + 9]["transfer_lump_sum"]
        assert torch.allclose(taxed.sum(-1), -rebate.sum(-1), atol=1e-5)  # budget balanced
    assert row["objective"] == pytest.approx(float(torch.stack(objectives).mean()), rel=1e-5)
    # utility is the sum of the rewards: what the trainer credits the agents with
    assert "utility" in steps[-1] and "income" in steps[-1]

    row = trainer.train_iteration()  # the cap has risen to 1
    assert row["max_rate"] == 1.0 and trainer.iteration == 3
    after = list(learner.net.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(after, before))


def test_planner_period_must_cover_whole_tax_periods():
    bad = {**TINY, "planner": {**TINY["planner"], "period": 15}}
    with pytest.raises(ValueError, match="multiple"):
        Trainer(sc.from_dict(bad))


def test_planner_groups_copies_of_each_world_and_is_paid_against_the_group_mean():
    grouped = {**TINY, "planner": {**TINY["planner"], "group_size": 2}}
    trainer = Trainer(sc.from_dict(grouped))
    world, learner = trainer.world, trainer.learners[0][0]
    starts, rewards = [], []
    act_fn, update_fn = learner.step, trainer.planner.learner.update

    def act(obs, mask=None, active=None):
        if world.t == 0:
            starts.append(world.positions().clone())
        return act_fn(obs, mask, active)

    def update(ro, ent):
        rewards.append(ro.rewards.clone())  # [decisions, B, 1]
        return update_fn(ro, ent)

    learner.step, trainer.planner.learner.update = act, update
    trainer.train_iteration()  # phase 1: no planner, every world its own
    trainer.train_iteration()  # phase 2: worlds 0 = 1 and 2 = 3 at the start
    first, second = starts
    assert not (torch.equal(first[0], first[1]) and torch.equal(first[2], first[3]))
    assert torch.equal(second[0], second[1]) and torch.equal(second[2], second[3])
    (paid,) = rewards
    assert paid.shape == (2, 4, 1)
    assert paid.view(2, 2, 2).sum(-1).abs().max() < 1e-5  # each group's rewards sum to zero
    bad = {**TINY, "planner": {**TINY["planner"], "group_size": 3}}
    with pytest.raises(ValueError, match="group_size"):
        Trainer(sc.from_dict(bad))


def test_a_scenario_edited_after_loading_is_checked_again_by_the_trainer():
    scenario = sc.from_dict({**TINY, "planner": {**TINY["planner"], "group_size": 2}})
    scenario.planner = dataclasses.replace(scenario.planner, group_size=3)  # 4 worlds
    with pytest.raises(ConfigError, match="planner.group_size: got 3, must divide"):
        Trainer(scenario)
