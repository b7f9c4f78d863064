"""Moves settled all at once: start-of-step occupancy, rotating priority, walls, houses."""

from __future__ import annotations

import torch

from coopsim.envs.economy.actions import DOWN, LEFT, REST, RIGHT, UP


def acts(*per_agent: int) -> torch.Tensor:
    return torch.tensor([per_agent])  # [1, N]


def test_a_tile_vacated_this_step_is_still_blocked(tiny):
    w = tiny("...", [0, 0, 0, 1])
    moved = w.movement.step(w.state, acts(RIGHT, RIGHT), t=0)
    assert moved[0].tolist() == [False, True]  # agent 0 waits for a tile held at the start
    assert w.positions()[0].tolist() == [[0, 0], [0, 2]]


def test_three_agents_into_one_tile_the_first_in_rotating_rank_wins(tiny):
    # a plus shape: agents left, right and below the centre all step into it
    text = "...\n...\n..."
    starts = [1, 0, 1, 2, 2, 1]
    for t, winner in [(0, 0), (1, 1), (2, 2), (3, 0)]:
        w = tiny(text, starts, n=3)
        moved = w.movement.step(w.state, acts(RIGHT, LEFT, UP), t=t)
        assert moved[0].tolist() == [i == winner for i in range(3)], t
        assert w.positions()[0, winner].tolist() == [1, 1]


def test_allowed_moves_respect_water_edges_and_others_houses(tiny):
    w = tiny("..W\n...", [0, 0, 1, 1])
    s = w.state
    house = (1 + w.grid.pad) * w.grid.wp + w.grid.pad  # tile (1, 0), agent 1's house
    s.house_owner[0, house] = 1
    allowed = w.movement.allowed(s)[0]  # [N, 4] up, down, left, right
    assert allowed[0].tolist() == [False, False, False, True]  # edge, house, edge, land
    assert allowed[1].tolist() == [True, False, True, True]  # its own house is open to it
    moved = w.movement.step(s, acts(DOWN, REST), t=0)
    assert not moved.any()
    assert w.movement.step(s, acts(REST, LEFT), t=0)[0].tolist() == [False, True]
