"""The commons' text maps."""

from __future__ import annotations

import pytest

from coopsim.envs.commons_maps import DEFAULT_MAP, parse_map


def test_default_map():
    grid = parse_map(DEFAULT_MAP)
    assert grid.shape == (17, 23)
    assert int(grid.apples.sum()) == 65  # five diamonds of 13
    assert int(grid.spawns.sum()) == 10
    assert bool(grid.walls[0].all()) and not bool((grid.walls & grid.apples).any())


def test_short_rows_are_padded_and_bad_maps_refused():
    grid = parse_map("A\n...P")
    assert grid.shape == (2, 4) and int(grid.apples.sum()) == 1
    with pytest.raises(ValueError, match="no apples"):
        parse_map("...\n.P.")
    with pytest.raises(ValueError, match="the map is empty"):
        parse_map("\n\n")
