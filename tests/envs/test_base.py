"""The declared world interface: the defaults, and the worlds that override them."""

from __future__ import annotations

import torch

from coopsim.envs import WORLDS, World
from coopsim.envs.base import Step, WorldSpec
from coopsim.envs.economy import EconomyConfig, EconomyWorld
from coopsim.envs.matrix_games import MatrixGameConfig, MatrixGameWorld
from coopsim.envs.one_step_economy import OneStepEconomyConfig, OneStepEconomyWorld
from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld


class Bare(World):
    """Only what a world must implement: everything else is the declared default."""

    kind = "bare"

    def __init__(self):
        self.spec = WorldSpec(num_agents=2, obs_dim=1, action_nvec=(2, 3), horizon=1)
        self.batch_size, self.device = 3, torch.device("cpu")

    def reset(self, seed=None):
        return torch.zeros(3, 2, 1)

    def step(self, actions):
        return Step(torch.zeros(3, 2, 1), torch.zeros(3, 2), torch.ones(3, dtype=torch.bool), {})


def test_defaults_fit_a_world_with_no_labour_no_contributions_and_no_copies():
    world = Bare()
    assert world.observe() is None
    world.set_labour_scale(0.5)  # nothing to warm up: accepted and ignored
    assert world.endowment == 1.0
    assert world.round_metrics({"net": torch.zeros(3, 2)}) == {}
    assert world.active_heads().tolist() == [True, True]
    assert world.action_mask() is None
    assert not Bare.can_replicate()


def test_every_world_kind_is_registered_under_its_own_kind():
    for kind, (_, cls) in WORLDS.items():
        assert cls.kind == kind


def test_worlds_that_reobserve_show_the_current_observation():
    one_step = OneStepEconomyWorld(OneStepEconomyConfig(), batch_size=2)
    obs = one_step.reset(seed=1)
    assert torch.equal(one_step.observe(), obs)
    economy = EconomyWorld(EconomyConfig(height=10, width=10), batch_size=2)
    obs = economy.reset(seed=1)
    assert torch.equal(economy.observe(), obs)
    games = PublicGoodsWorld(PublicGoodsConfig(), batch_size=2)
    obs = games.reset(seed=1)
    assert torch.equal(games.observe(), obs)  # rules set between rounds show at once


def test_labour_warmup_reaches_the_worlds_with_a_labour_cost():
    one_step = OneStepEconomyWorld(OneStepEconomyConfig(), batch_size=2)
    one_step.set_labour_scale(0.25)
    assert one_step.labour_scale == 0.25
    economy = EconomyWorld(EconomyConfig(height=10, width=10), batch_size=2)
    economy.set_labour_scale(0.5)
    assert economy.labour_scale == 0.5


def test_contribution_rate_is_a_share_of_the_endowment():
    world = PublicGoodsWorld(PublicGoodsConfig(endowment=20.0, levels=5), batch_size=1)
    world.reset(seed=0)
    step = world.step(torch.tensor([[[4], [2], [0], [1]]]))  # levels of 5 per 20
    assert world.endowment == 20.0
    rate = world.round_metrics(step.info)["contribution_rate"]
    assert rate.tolist() == [[1.0, 0.5, 0.0, 0.25]]
    pd = MatrixGameWorld(MatrixGameConfig(num_agents=2), batch_size=1)
    pd.reset(seed=0)
    step = pd.step(torch.tensor([[[1], [0]]]))
    assert pd.round_metrics(step.info)["contribution_rate"].tolist() == [[1.0, 0.0]]
