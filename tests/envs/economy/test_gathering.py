"""Gathering yields one unit plus a skill bonus, by act or on arrival; regrowth keeps its
per-tile probability."""

from __future__ import annotations

import torch

from coopsim.envs.economy.actions import GATHER, REST, RIGHT
from coopsim.envs.economy.gathering import Regrowth, gather
from coopsim.envs.economy.state import PRESENT, SOURCE_BIT, STONE, WOOD


def test_gather_takes_the_tile_resource_with_the_skill_bonus(tiny):
    w = tiny("ws.", [0, 0, 0, 1, 0, 2], n=3, gather_skills=[0.0, 1.0, 1.0])
    s = w.state
    kind = s.tiles.gather(1, s.pos)
    code = s.code.gather(1, s.pos)
    wants = torch.tensor([[True, True, True]])
    gathered, units, code = gather(s, wants, kind, code, w.gen)
    assert gathered[0].tolist() == [True, True, False]  # agent 2 stands on bare land
    assert units[0].tolist() == [1.0, 2.0, 0.0]  # agent 1 always gets its bonus
    assert s.stock[0, :, WOOD].tolist() == [1.0, 0.0, 0.0]
    assert s.stock[0, :, STONE].tolist() == [0.0, 2.0, 0.0]
    assert ((code[0, :2] & PRESENT) == 0).all() and ((code[0, :2] & SOURCE_BIT) > 0).all()


def test_regrowth_by_candidates_gives_each_empty_source_its_probability(tiny):
    w = tiny("w" * 40 + "\n" + "." * 40, [1, 0], n=1, batch=256, regen_prob=0.02)
    regrow = Regrowth(0.02, w.grid.hp * w.grid.wp)
    assert regrow.candidates is not None  # the cheap path
    s = w.state
    sources = (s.code & SOURCE_BIT) > 0  # [B, T]
    total = 0
    for _ in range(10):
        s.code &= ~PRESENT  # every source empty
        regrow(s, w.gen)
        grown = (s.code & PRESENT) > 0
        assert not (grown & ~sources).any()  # only sources regrow
        total += int(grown.sum())
    rate = total / (10 * int(sources.sum()))
    assert abs(rate - 0.02) < 0.004  # 102,400 tile-steps: sd of the rate ~0.0004


def test_regrowth_at_probability_one_refills_every_source(tiny):
    w = tiny("wsw\n...", [1, 0], n=1, regen_prob=1.0)
    regrow = Regrowth(1.0, w.grid.hp * w.grid.wp)
    assert regrow.candidates is None  # every tile draws
    s = w.state
    full = s.code.clone()
    s.code &= ~PRESENT
    regrow(s, w.gen)
    assert torch.equal(s.code, full)


def test_automatic_gathering_takes_what_lies_under_every_agent_after_its_move(tiny):
    """The reference's Gather (move.py:110-151) in a three-agent case worked by hand: agent 0
    rests on wood and takes it, agent 1 steps right onto stone and takes it (labour 1 to move
    plus 1 to collect), agent 2 steps onto bare land and takes nothing."""
    w = tiny("w.s\n...", [0, 0, 0, 1, 1, 0], n=3, gathering="auto", gather_skills=[0.0, 1.0, 0.0])
    assert not w.action_mask()[..., GATHER].any()  # there is no gather act to choose
    act = torch.tensor([[[REST, 0, 0], [RIGHT, 0, 0], [RIGHT, 0, 0]]])
    info = w.step(act).info
    assert w.positions()[0].tolist() == [[0, 0], [0, 2], [1, 1]]
    assert info["gathered"][0].tolist() == [1.0, 2.0, 0.0]  # agent 1's bonus is certain
    assert info["labour"][0].tolist() == [1.0, 2.0, 1.0]
    assert w.state.stock[0].tolist() == [[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]
    assert not w.resources()[0, :, 0].any()  # both tiles of the top row's sources are bare


def test_with_the_gather_act_standing_on_a_resource_takes_nothing(tiny):
    w = tiny("w.s\n...", [0, 0, 0, 1], n=2)
    info = w.step(torch.tensor([[[REST, 0, 0], [GATHER, 0, 0]]])).info
    assert info["gathered"][0].tolist() == [0.0, 0.0]  # agent 0 rested; agent 1 on bare land
    assert w.action_mask()[0, 0, GATHER]  # agent 0 may gather next step
