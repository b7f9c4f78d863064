"""A seat table plays several populations in one batch, each seat as its member would."""

from __future__ import annotations

import pytest
import torch

from coopsim.agents.mixture import SeatTable, as_population, draw_table, voter_aversion
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


def test_a_seat_table_says_how_each_seat_votes():
    world = PublicGoodsWorld(PublicGoodsConfig(), batch_size=2)
    plain, averse = whole(FreeRider(world.spec)), whole(AlwaysContribute(world.spec))
    averse.vote_aversion = (4.0, 0.6)
    table = torch.tensor([[0, 1, 0, 1], [1, 1, 1, 1]])
    got = SeatTable([plain, averse], table).aversion()
    assert got.shape == (2, 4, 2)
    assert got[0, :, 0].tolist() == [0.0, 4.0, 0.0, 4.0]
    assert got[1, :, 1].tolist() == pytest.approx([0.6] * 4)
    # through the population the evaluation plays, and None where nobody votes by fairness
    assert torch.equal(
        voter_aversion(as_population(SeatTable([plain, averse], table), 4, 1), 2), got
    )
    assert SeatTable([plain], torch.zeros(2, 4, dtype=torch.long)).aversion() is None
    assert voter_aversion(plain, 2) is None
    whole_averse = voter_aversion(averse, 3)
    assert whole_averse.shape == (3, 4, 2) and whole_averse[..., 0].eq(4.0).all()
    with pytest.raises(ValueError, match="not 5"):
        voter_aversion(SeatTable([plain, averse], table), 5)
