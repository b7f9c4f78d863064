"""Each scripted policy does what its docstring says, read off the world's observations."""

from __future__ import annotations

import torch

from coopsim.agents.scripted import (
    SCRIPTED,
    AlwaysContribute,
    ConditionalCooperator,
    ConditionalCooperatorParams,
    FreeRider,
    HumpShaped,
    HumpShapedParams,
    Punisher,
    PunisherParams,
    RandomPolicy,
    TitForTat,
    TitForTatParams,
)
from coopsim.envs.matrix_games import MatrixGameConfig, MatrixGameWorld
from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld
from mechanisms import Pipeline
from mechanisms.sanctions import PeerPunishment, PeerPunishmentParams

CPU = torch.device("cpu")


def pg_after(levels: list[list[int]], **kw) -> tuple[PublicGoodsWorld, torch.Tensor]:
    """A public-goods world after one round with the given levels [B, N]; returns obs."""
    world = PublicGoodsWorld(PublicGoodsConfig(**kw), batch_size=len(levels))
    world.reset(seed=0)
    return world, world.step(torch.tensor(levels)[..., None]).obs


def gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def test_registry_names():
    assert set(SCRIPTED) >= {
        "always_contribute",
        "free_rider",
        "random",
        "tit_for_tat",
        "conditional_cooperator",
        "punisher",
    }
    for name, cls in SCRIPTED.items():
        assert cls.name == name and cls.summary


def test_always_contribute_and_free_rider():
    world, obs = pg_after([[3, 7, 0, 20]])
    assert AlwaysContribute(world.spec).act(obs, gen())[..., 0].tolist() == [[20] * 4]
    assert FreeRider(world.spec).act(obs, gen())[..., 0].tolist() == [[0] * 4]


def test_tit_for_tat_in_the_prisoners_dilemma_copies_the_other():
    world = MatrixGameWorld(MatrixGameConfig(num_agents=2), batch_size=2)
    tft = TitForTat(world.spec, TitForTatParams())
    obs = world.reset(seed=0)
    # cooperates first
    assert tft.act(obs, gen())[..., 0].tolist() == [[1, 1], [1, 1]]
    # then copies what the other player did last round
    obs = world.step(torch.tensor([[1, 0], [0, 0]])[..., None]).obs
    assert tft.act(obs, gen())[..., 0].tolist() == [[0, 1], [0, 0]]
    obs = world.step(torch.tensor([[0, 1], [1, 1]])[..., None]).obs
    assert tft.act(obs, gen())[..., 0].tolist() == [[1, 0], [1, 1]]


def test_tit_for_tat_threshold_in_a_group():
    # cooperates (all in) when the others' mean last share reaches the threshold
    world, obs = pg_after([[20, 10, 10, 0], [0, 0, 0, 0]])
    tft = TitForTat(world.spec, TitForTatParams(threshold=0.5))
    # others' shares of agent 0: (10+10+0)/3/20 = 1/3; agent 1: 30/60 = 0.5; agent 3: 40/60
    assert tft.act(obs, gen())[..., 0].tolist() == [[0, 20, 20, 20], [0, 0, 0, 0]]


def test_conditional_cooperator_matches_the_others_last_mean():
    world = PublicGoodsWorld(PublicGoodsConfig(), batch_size=2)
    obs = world.reset(seed=0)
    cc = ConditionalCooperator(world.spec, ConditionalCooperatorParams(initial=0.5))
    assert cc.act(obs, gen())[..., 0].tolist() == [[10] * 4] * 2  # initial share 0.5
    obs = world.step(torch.tensor([[20, 8, 2, 14], [0, 0, 0, 20]])[..., None]).obs
    got = cc.act(obs, gen())[..., 0]
    # others' mean contribution in coin: agent 0: (8+2+14)/3 = 8, agent 1: 12, agent 2: 14,
    # agent 3: 10; world 1: 20/3 = 6.67 -> level 7, and 0 for the one who gave 20
    assert got.tolist() == [[8, 12, 14, 10], [7, 7, 7, 0]]


def test_hump_shaped_rises_with_the_others_up_to_the_turn_then_falls():
    world = PublicGoodsWorld(PublicGoodsConfig(), batch_size=3)
    obs = world.reset(seed=0)
    hump = HumpShaped(world.spec, HumpShapedParams(peak=0.5, turn=0.5))
    assert hump.act(obs, gen())[0, :, 0].tolist() == [10] * 4  # the peak in round one
    # agent 3 sees the others' mean: world 0: 0.25 of 20 (5), world 1: 0.5 (10), world 2: all
    levels = torch.tensor([[5, 5, 5, 0], [10, 10, 10, 0], [20, 20, 20, 0]])
    obs = world.step(levels[..., None]).obs
    got = hump.act(obs, gen())[:, 3, 0].tolist()
    # tent: 0.5 x 0.25 / 0.5 = 0.25 (5 coin); at the turn the peak (10); all in -> 0
    assert got == [5, 10, 0]


def test_punisher_contributes_and_punishes_below_threshold():
    mech = PeerPunishment(PeerPunishmentParams(max_points=5), 4, 1, CPU)
    world = PublicGoodsWorld(PublicGoodsConfig(), Pipeline([mech]), batch_size=1)
    obs = world.reset(seed=0)
    pun = Punisher(world.spec, PunisherParams(contribution=0.75, threshold=0.5, points=3))
    first = pun.act(obs, gen())
    assert first[..., 0].tolist() == [[15] * 4]
    # contributions 20, 9, 10, 0 (shares 1, 0.45, 0.5, 0): 9 and 0 are below half
    obs = world.step(torch.tensor([[[20, 0, 0, 0], [9, 0, 0, 0], [10, 0, 0, 0], [0, 0, 0, 0]]]))
    obs = obs.obs
    act = pun.act(obs, gen())
    # egocentric heads: agent 0 sees 1, 2, 3; agent 1 sees 2, 3, 0; ...
    assert act[0, 0, 1:].tolist() == [3, 0, 3]
    assert act[0, 1, 1:].tolist() == [0, 3, 0]
    assert act[0, 2, 1:].tolist() == [3, 0, 3]
    assert act[0, 3, 1:].tolist() == [0, 3, 0]
    step = world.step(act)
    # agents 1 and 3 are each punished by 0 and 2, and by each other: 3 x 3 points
    assert step.info["punishment_received"].tolist() == [[0.0, 9.0, 0.0, 9.0]]
    assert step.info["punishment_given"].tolist() == [[6.0, 3.0, 6.0, 3.0]]
    # points are capped by the mechanism's max_points
    big = Punisher(world.spec, PunisherParams(points=50))
    world.reset(seed=0)
    obs = world.step(torch.zeros(1, 4, 4, dtype=torch.long)).obs
    assert big.act(obs, gen())[..., 1:].max().item() == 5


def test_random_covers_every_level_and_is_seeded():
    world = PublicGoodsWorld(PublicGoodsConfig(levels=6), batch_size=64)
    obs = world.reset(seed=0)
    policy = RandomPolicy(world.spec)
    a = policy.act(obs, torch.Generator().manual_seed(5))
    b = policy.act(obs, torch.Generator().manual_seed(5))
    c = policy.act(obs, torch.Generator().manual_seed(6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert a.shape == (64, 4, 1)
    counts = torch.bincount(a.flatten(), minlength=6)
    assert counts.numel() == 6 and (counts > 0).all()
    # roughly uniform: 256 draws over 6 levels, about 43 each
    assert counts.min() > 20 and counts.max() < 70
    # on the matrix game it plays both actions
    mg = MatrixGameWorld(MatrixGameConfig(num_agents=2), batch_size=100)
    acts = RandomPolicy(mg.spec).act(mg.reset(seed=0), gen())
    assert set(acts.flatten().tolist()) == {0, 1}


def test_scripted_policies_fill_punishment_heads_only_for_punishers():
    mech = PeerPunishment(PeerPunishmentParams(), 4, 2, CPU)
    world = PublicGoodsWorld(PublicGoodsConfig(), Pipeline([mech]), batch_size=2)
    obs = world.reset(seed=0)
    for cls in (AlwaysContribute, FreeRider, ConditionalCooperator, TitForTat):
        params = cls.Params() if cls.Params is not type(None) else None
        act = cls(world.spec, params).act(obs, gen())
        assert act.shape == (2, 4, 4)
        assert act[..., 1:].abs().sum() == 0
