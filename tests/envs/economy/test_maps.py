"""The AI Economist's layout shipped with the package, and the errors naming a bad choice."""

from __future__ import annotations

import pytest
import torch

from coopsim.envs.economy import EconomyConfig, EconomyWorld, maps


def test_simple_wood_and_stone_is_the_references_quadrant_map():
    kinds = maps.builtin_map("simple_wood_and_stone")  # [H, W]
    assert kinds.shape == (25, 25)
    # the water cross: row 12 and column 12, with 4-tile openings in each arm
    row, col = kinds[12], kinds[:, 12]
    assert [c for c in range(25) if row[c] != maps.WATER] == [5, 6, 7, 8, 16, 17, 18, 19]
    assert [r for r in range(25) if col[r] != maps.WATER] == [5, 6, 7, 8, 16, 17, 18, 19]
    # counted from quadrant_25x25_20each_30clump.txt: 20 wood, all in the top half, 20 stone,
    # all in the left half; the bottom-right quadrant is bare land
    wood, stone = kinds == maps.WOOD, kinds == maps.STONE
    assert int(wood.sum()) == 20 and int(stone.sum()) == 20
    assert not wood[12:].any() and not stone[:, 12:].any() and not (wood | stone)[13:, 13:].any()
    # the corners where the fixed four start: wood, empty, stone, empty
    corners = [int(kinds[r, c]) for r, c in [(0, 0), (0, 24), (24, 0), (24, 24)]]
    assert corners == [maps.WOOD, maps.EMPTY, maps.STONE, maps.EMPTY]


def test_a_builtin_map_is_the_same_in_every_world():
    cfg = EconomyConfig(layout="builtin", map_name="simple_wood_and_stone")
    cfg.validate()
    w = EconomyWorld(cfg, batch_size=3)
    tiles = w.grid.unpad(w.state.tiles)  # [B, H, W]
    assert torch.equal(
        tiles, maps.builtin_map("simple_wood_and_stone").to(torch.uint8).expand(3, -1, -1)
    )
    assert (w.height, w.width) == (25, 25)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(layout="builtin"), "needs map_name, one of: simple_wood_and_stone"),
        (dict(layout="builtin", map_name="atlantis"), "got 'atlantis'"),
        (dict(map_name="simple_wood_and_stone"), "only read with layout = 'builtin'"),
    ],
)
def test_bad_map_choices_are_named(change, message):
    with pytest.raises(ValueError, match=message):
        EconomyConfig(**change).validate()
