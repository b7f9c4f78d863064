"""The state record: every field batched as declared, copied whole by ``take``."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from coopsim.envs.economy import EconomyConfig
from coopsim.envs.economy.state import EconomyState, Grid, new_state


def test_new_state_has_the_declared_shapes_and_types():
    cfg = EconomyConfig(num_agents=3, height=9, width=11, view_radius=2, max_orders=4)
    grid = Grid.of(cfg)
    gen = torch.Generator().manual_seed(0)
    s = new_state(cfg, grid, gen, 5, torch.device("cpu"))
    t = grid.hp * grid.wp
    assert (grid.hp, grid.wp) == (13, 15)
    expected = {
        "tiles": ((5, t), torch.uint8),
        "code": ((5, t), torch.uint8),
        "house_owner": ((5, t), torch.long),
        "present_bit": ((5, t), torch.uint8),
        "pos": ((5, 3), torch.long),
        "coin": ((5, 3), torch.float),
        "stock": ((5, 3, 2), torch.float),
        "labour": ((5, 3), torch.float),
        "order_price": ((5, 3, 2, 2, 4), torch.long),
        "order_age": ((5, 3, 2, 2, 4), torch.long),
        "build_skill": ((5, 3), torch.float),
        "gather_bonus": ((5, 3), torch.float),
        "utility": ((5, 3), torch.float),
    }
    assert [f.name for f in dataclasses.fields(EconomyState)] == list(expected)
    for name, (shape, dtype) in expected.items():
        value = getattr(s, name)
        assert (tuple(value.shape), value.dtype) == (shape, dtype), name
    assert grid.unpad(s.tiles).shape == (5, 9, 11)
    padded = s.tiles.view(5, 13, 15)
    border = torch.ones(13, 15, dtype=torch.bool)
    border[2:-2, 2:-2] = False
    assert (padded[:, border] == 1).all()  # the padding is water, two tiles deep
    # agents start on distinct empty tiles
    assert (s.tiles.gather(1, s.pos) == 0).all()
    assert (s.pos.sort(-1).values.diff(dim=-1) > 0).all()
    assert ((s.build_skill >= 1) & (s.build_skill <= cfg.max_skill)).all()


def test_take_copies_every_field_of_the_chosen_worlds_into_new_storage():
    cfg = EconomyConfig(num_agents=2, height=6, width=6, view_radius=1)
    gen = torch.Generator().manual_seed(1)
    s = new_state(cfg, Grid.of(cfg), gen, 3, torch.device("cpu"))
    s.coin += torch.arange(3.0)[:, None]
    copy = s.take(torch.tensor([2, 2, 0]))
    for f in dataclasses.fields(s):
        a, b = getattr(s, f.name), getattr(copy, f.name)
        assert torch.equal(b[0], a[2]) and torch.equal(b[1], a[2]) and torch.equal(b[2], a[0])
    copy.coin[0] += 5  # the copy shares no storage with the original or its sibling
    assert copy.coin[1, 0] == 2.0 and s.coin[2, 0] == 2.0


def test_start_positions_on_water_are_refused():
    cfg = EconomyConfig(num_agents=1, layout="text", map_text="W.", start_positions=[0, 0])
    gen = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="start_positions must be distinct tiles"):
        new_state(cfg, Grid.of(cfg), gen, 1, torch.device("cpu"))
