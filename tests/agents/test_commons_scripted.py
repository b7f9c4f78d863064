"""The scripted commons harvesters, on hand-built windows."""

from __future__ import annotations

import pytest
import torch

from coopsim.agents.commons_scripted import GreedyHarvester, RestrainedHarvester
from coopsim.agents.scripted import SCRIPTED
from coopsim.envs.commons import FORWARD, STEP_LEFT, CommonsConfig, CommonsWorld
from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld

MAP = """
.........
..A......
.AAA.....
..A......
.........
.........
......A..
P.P......
"""


def world() -> CommonsWorld:
    cfg = CommonsConfig(num_agents=2, map_text=MAP, view_radius=3, regrowth_probabilities=[0.0])
    return CommonsWorld(cfg, batch_size=1)


def test_registered():
    assert SCRIPTED["greedy_harvester"] is GreedyHarvester
    assert SCRIPTED["restrained_harvester"] is RestrainedHarvester
    with pytest.raises(ValueError, match="needs a commons world"):
        GreedyHarvester(PublicGoodsWorld(PublicGoodsConfig()).spec)


def test_greedy_takes_the_lone_apple_restrained_does_not():
    w = world()
    # agent 0 at (5, 6), facing north: the lone apple at (6, 6) is right behind it
    obs = w.place(torch.tensor([[5, 6], [7, 0]]), torch.tensor([0, 0]))
    gen = torch.Generator().manual_seed(0)
    greedy = GreedyHarvester(w.spec).act(obs, gen)[0, 0, 0].item()
    assert greedy == 2  # backward, onto the apple
    # the restrained one sees the lone apple (no neighbours) as not for taking, and the
    # diamond at distance > 3 is out of view: it wanders, but never backward onto the apple
    for seed in range(20):
        a = RestrainedHarvester(w.spec).act(obs, torch.Generator().manual_seed(seed))
        assert a[0, 0, 0].item() != 2


def test_restrained_takes_only_apples_with_enough_neighbours():
    w = world()
    obs = w.place(torch.tensor([[2, 5], [7, 0]]), torch.tensor([0, 0]))  # east of the diamond
    gen = torch.Generator().manual_seed(0)
    # the diamond's centre (2, 2) has 4 neighbours within radius 2... its east tip (2, 3) has 3
    # (itself excluded): the tip two steps west is the nearest willing apple
    assert RestrainedHarvester(w.spec).act(obs, gen)[0, 0, 0].item() == STEP_LEFT
    strict = RestrainedHarvester(w.spec, RestrainedHarvester.Params(min_neighbours=5))
    assert strict.act(obs, gen)[0, 0, 0].item() != STEP_LEFT  # no apple has 5 others near
    obs = w.place(torch.tensor([[4, 2], [7, 0]]), torch.tensor([0, 0]))  # below the diamond
    assert GreedyHarvester(w.spec).act(obs, gen)[0, 0, 0].item() == FORWARD
