"""Every world reports at a round's end exactly the ``Step.info`` keys it declares."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from coopsim import builder
from coopsim import scenario as sc
from coopsim.envs import WORLDS
from coopsim.envs.info import INFO_KEYS, REQUIRED, TRANSFER_PREFIX, taxable_income


def test_every_declared_key_is_documented():
    assert set(WORLDS) == {
        "public_goods",
        "matrix_game",
        "one_step_economy",
        "economy",
        "commons",
    }
    for kind, (_, world_cls) in WORLDS.items():
        keys = world_cls.info_keys
        assert set(REQUIRED) <= set(keys), kind
        assert set(keys) <= set(INFO_KEYS) | set(world_cls.info_meanings), kind
        assert len(set(keys)) == len(keys), kind
        assert world_cls.summary, kind  # it says what it is


@pytest.mark.parametrize("name", sorted(sc.list_scenarios()))
def test_scenario_worlds_report_their_declared_keys(name):
    scenario = sc.load(name)
    if scenario.world.kind in ("economy", "commons"):  # a few steps are enough to see every key
        scenario.world = dataclasses.replace(scenario.world, episode_length=4)
    world = builder.make_world(scenario, batch_size=2)
    gen = torch.Generator().manual_seed(0)
    world.reset(seed=0)
    high = torch.tensor(world.spec.action_nvec)
    seen: set[str] = set()
    for _ in range(min(world.spec.horizon, 6)):
        u = torch.rand(2, world.spec.num_agents, len(high), generator=gen)
        step = world.step((u * high).long())
        if not step.round_end:
            assert step.info == {}  # a stage inside a round reports nothing
            continue
        transfers = {TRANSFER_PREFIX + label for label in world.pipeline.labels}
        assert transfers <= set(step.info)
        keys = set(step.info) - transfers
        assert set(REQUIRED) <= keys
        assert keys <= set(world.info_keys), keys - set(world.info_keys)
        for key, value in step.info.items():
            assert value.shape == (2, world.spec.num_agents), key
        seen |= keys
    optional = {"punishment_given", "punishment_received"}  # only with peer punishment
    assert set(world.info_keys) - seen <= optional


def test_taxable_income_is_income_where_reported_else_gross():
    gross, income = torch.ones(1, 2), torch.full((1, 2), 2.0)
    assert taxable_income({"gross": gross, "net": gross}) is gross
    assert taxable_income({"gross": gross, "income": income, "net": gross}) is income
