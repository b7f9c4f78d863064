"""The people_schedule policy: the first round's share, then the schedule read at the others'
mean share of last round, linear between its points; its parameters checked on build."""

from __future__ import annotations

import pytest
import torch

from coopsim import builder
from coopsim import scenario as scenario_mod
from coopsim.agents.people_schedule import PeopleSchedule
from coopsim.schema import ConfigError, build


def policy_and_obs(initial: float, schedule: list[float], others: list[float], first: bool):
    world = builder.make_world(scenario_mod.load("public_goods"), 1)
    params = build(PeopleSchedule.Params, {"initial": initial, "schedule": schedule})
    obs = world.reset(seed=0).repeat(len(others), 1, 1)
    obs[:, :, world.spec.obs_fields["first_round"]] = 1.0 if first else 0.0
    column = torch.tensor(others)[:, None, None]
    obs[:, :, world.spec.obs_fields["others_last_mean_contribution"]] = column
    return PeopleSchedule(world.spec, params), obs, world


def test_reads_the_schedule_between_its_points():
    policy, obs, world = policy_and_obs(0.3, [0.0, 1.0, 0.5], [0.0, 0.25, 0.5, 0.75, 1.0], False)
    share = policy.share(obs, world.gen)[:, 0].tolist()
    assert share == pytest.approx([0.0, 0.5, 1.0, 0.75, 0.5])
    levels = policy.act(obs, world.gen)[:, 0, 0].tolist()
    assert levels == [0, 10, 20, 15, 10]  # shares of 20 levels


def test_the_first_round_gives_the_initial_share():
    policy, obs, world = policy_and_obs(0.3, [0.0, 1.0], [0.9], True)
    assert policy.share(obs, world.gen)[0].tolist() == pytest.approx([0.3] * 4)


@pytest.mark.parametrize(
    "params, words",
    [
        ({"schedule": [0.5]}, "give at least 2"),
        ({"schedule": [0.0, 1.2]}, "element 1: got 1.2"),
        ({"initial": -0.1}, "initial"),
    ],
)
def test_bad_parameters_are_refused(params, words):
    with pytest.raises((ConfigError, ValueError), match=words):
        build(PeopleSchedule.Params, params)
