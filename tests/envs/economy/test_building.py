"""Building spends a wood and a stone, pays by skill, and claims the tile."""

from __future__ import annotations

import pytest
import torch

from coopsim.envs.economy.building import build, can_build
from coopsim.envs.economy.state import HOUSE_BIT


def test_build_consumes_materials_and_pays_payment_times_skill(tiny):
    # agent 0 on land with goods; agent 1 on a wood source with goods; agent 2 lacks stone
    w = tiny("..w.", [0, 0, 0, 2, 0, 3], n=3, build_skills=[2.5, 1.0, 3.0])
    s = w.state
    s.stock[0] = torch.tensor([[2.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    kind = s.tiles.gather(1, s.pos)
    code = s.code.gather(1, s.pos)
    assert can_build(s, kind, code)[0].tolist() == [True, False, False]
    wants = torch.ones(1, 3, dtype=torch.bool)
    built, revenue, code = build(s, wants, kind, code, 10.0, torch.arange(3))
    assert built[0].tolist() == [True, False, False]
    assert revenue[0].tolist() == pytest.approx([25.0, 0.0, 0.0])
    assert s.stock[0].tolist() == [[1.0, 0.0], [1.0, 1.0], [1.0, 0.0]]
    assert (code[0] & HOUSE_BIT).tolist() == [HOUSE_BIT, 0, 0]
    assert w.houses()[0, 0].tolist() == [0, -1, -1, -1]
    # the tile now has a house: no second one, even with new goods
    s.code.scatter_(1, s.pos, code)
    s.stock[0, 0] = torch.tensor([1.0, 1.0])
    code = s.code.gather(1, s.pos)
    assert not can_build(s, kind, code)[0, 0]
    built, revenue, _ = build(s, wants, kind, code, 10.0, torch.arange(3))
    assert not built.any() and revenue.sum() == 0
