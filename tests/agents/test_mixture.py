"""A seat table plays several populations in one batch, each seat as its member would."""

from __future__ import annotations

import pytest
import torch

from coopsim.agents.mixture import SeatTable, as_population, draw_table
from coopsim.agents.population import Population
from coopsim.agents.scripted import AlwaysContribute, FreeRider
from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld


def whole(policy, n: int = 4) -> Population:
    return Population([(policy, list(range(n)))], n, 1)


def test_each_seat_acts_as_the_member_the_table_names():
    world = PublicGoodsWorld(PublicGoodsConfig(), batch_size=3)
    obs = world.reset(seed=0)
    members = [whole(FreeRider(world.spec)), whole(AlwaysContribute(world.spec))]
    table = torch.tensor([[0, 1, 0, 1], [1, 1, 1, 1], [0, 0, 0, 0]])
    actions = SeatTable(members, table).act(obs, world.gen)
    assert actions[..., 0].tolist() == (table * 20).tolist()  # levels 0..20


def test_a_seat_table_as_a_population_fills_every_seat():
    world = PublicGoodsWorld(PublicGoodsConfig(), batch_size=2)
    table = torch.zeros(2, 4, dtype=torch.long)
    pop = as_population(SeatTable([whole(FreeRider(world.spec))], table), 4, 1)
    assert pop.act(world.reset(seed=0), world.gen)[..., 0].sum() == 0


def test_draws_follow_the_shares_and_repeat_with_the_seed():
    shares = [0.5, 0.3, 0.14, 0.06]
    table = draw_table(shares, 4000, 4, torch.Generator().manual_seed(1))
    counts = torch.bincount(table.flatten(), minlength=4).double() / table.numel()
    assert torch.allclose(counts, torch.tensor(shares, dtype=torch.double), atol=0.01)
    again = draw_table(shares, 4000, 4, torch.Generator().manual_seed(1))
    assert torch.equal(table, again)


def test_bad_shares_and_tables_are_refused():
    with pytest.raises(ValueError, match="sum to 1"):
        draw_table([0.5, 0.4], 2, 2, torch.Generator())
    world = PublicGoodsWorld(PublicGoodsConfig(), batch_size=2)
    with pytest.raises(ValueError, match="outside"):
        SeatTable([whole(FreeRider(world.spec))], torch.ones(2, 4, dtype=torch.long))
    mixed = SeatTable([whole(FreeRider(world.spec))], torch.zeros(3, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="worlds are"):
        mixed.act(world.reset(seed=0), world.gen)
