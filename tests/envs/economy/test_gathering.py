"""Gathering yields one unit plus a skill bonus; regrowth keeps its per-tile probability."""

from __future__ import annotations

import torch

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
