"""The drawable state spatial worlds declare for replays: world 0's map and agents, as is."""

from __future__ import annotations

import torch

from coopsim import builder
from coopsim import scenario as sc
from coopsim.envs.base import DrawableState


def test_commons_state_shows_walls_apples_agents_headings_and_who_is_out():
    world = builder.make_world(sc.load("commons"), 2)
    world.place(
        torch.tensor([[1, 1], [1, 3], [7, 5], [7, 9], [7, 11]]), torch.tensor([1, 0, 2, 3, 0])
    )
    world.out[0, 4] = 5  # agent 4 of world 0 is tagged out
    state = world.drawable_state()
    assert isinstance(state, DrawableState)
    assert set(state.layers) == {"wall", "apple"}
    assert state.layers["wall"].shape == (17, 23) and state.layers["wall"][0].all()
    assert torch.equal(state.layers["apple"], world.apple_grid()[0])
    assert state.positions.tolist() == [[1, 1], [1, 3], [7, 5], [7, 9], [7, 11]]
    assert state.heading.tolist() == [1, 0, 2, 3, 0]
    assert state.present.tolist() == [True, True, True, True, False]


def test_commons_state_follows_the_apples_taken():
    world = builder.make_world(sc.load("commons"), 1)
    apples = world.apple_grid()[0].clone()
    apples[4, 1] = False
    world.set_apples(apples)
    assert not bool(world.drawable_state().layers["apple"][4, 1])


def test_economy_state_shows_water_resources_houses_and_agents():
    world = builder.make_world(sc.load("economy_free_market"), 2)
    state = world.drawable_state()
    assert set(state.layers) == {"water", "source", "wood", "stone", "house"}
    h, w = world.height, world.width
    assert all(
        layer.shape == (h, w) and layer.dtype == torch.bool for layer in state.layers.values()
    )
    resources = world.resources()[0]
    assert torch.equal(state.layers["wood"], resources[0])
    assert torch.equal(state.layers["stone"], resources[1])
    assert not (state.layers["water"] & state.layers["source"]).any()
    assert not state.layers["house"].any()  # nobody has built yet
    assert torch.equal(state.positions, world.positions()[0])
    assert state.present.all() and state.heading is None


def test_worlds_without_a_map_have_no_drawable_state():
    assert builder.make_world(sc.load("public_goods"), 2).drawable_state() is None
