"""Frames of replays: both spatial worlds drawn, agents where the state says, a strip figure."""

from __future__ import annotations

import numpy as np
import pytest

from coopsim.figures.replay import (
    AGENT_COLOURS,
    GROUND,
    LAYER_COLOURS,
    TAGGED_OUT,
    frame,
    frames,
    replay_strip,
    strip_indices,
)
from coopsim.replay import Replay


def hand_replay(layers: dict[str, np.ndarray], present=(True, False), heading=(1, -1)) -> Replay:
    """Two agents on a 4 x 5 map over two frames; agent 0 at (1, 2), agent 1 at (3, 0)."""
    f = 2
    return Replay(
        kind="hand",
        steps=np.array([0, 5]),
        layers={k: np.repeat(v[None], f, 0) for k, v in layers.items()},
        positions=np.repeat(np.array([[[1, 2], [3, 0]]]), f, 0),
        present=np.repeat(np.array([present]), f, 0),
        heading=np.repeat(np.array([heading]), f, 0),
    )


def tile_pixels(img: np.ndarray, y: int, x: int, tile: int = 8) -> np.ndarray:
    return img[y * tile : (y + 1) * tile, x * tile : (x + 1) * tile].reshape(-1, 3)


def has(pixels: np.ndarray, colour) -> bool:
    return bool((pixels == np.asarray(colour, dtype=np.uint8)).all(-1).any())


def test_commons_frame_draws_apples_walls_agent_heading_and_tagged_out():
    apples = np.zeros((4, 5), bool)
    apples[0, 0] = True
    walls = np.zeros((4, 5), bool)
    walls[:, 4] = True
    replay = hand_replay({"wall": walls, "apple": apples})
    img = frame(replay, 0)
    assert img.shape == (32, 40, 3) and img.dtype == np.uint8
    assert has(tile_pixels(img, 0, 0), LAYER_COLOURS["apple"])
    assert has(tile_pixels(img, 2, 4), LAYER_COLOURS["wall"])
    assert has(tile_pixels(img, 2, 2), GROUND) and not has(tile_pixels(img, 2, 2), AGENT_COLOURS[0])
    agent = img[8:16, 16:24]  # agent 0, facing east: its dark bar on the right
    assert has(agent.reshape(-1, 3), AGENT_COLOURS[0])
    dark = (AGENT_COLOURS[0] * 0.4).astype(np.uint8)
    assert (agent[1:7, 5] == dark).all() and not (agent[1:7, 1] == dark).all(-1).any()
    out = tile_pixels(img, 3, 0)  # agent 1 is tagged out: a grey outline, no fill
    assert has(out, TAGGED_OUT) and not has(out, AGENT_COLOURS[1])


def test_economy_frame_draws_water_wood_stone_houses():
    layers = {
        name: np.zeros((4, 5), bool) for name in ("water", "source", "wood", "stone", "house")
    }
    layers["water"][0, 4] = True
    layers["source"][0, 0] = layers["wood"][0, 0] = True
    layers["source"][0, 1] = True  # a wood source not regrown yet
    layers["stone"][2, 4] = layers["source"][2, 4] = True
    layers["house"][3, 3] = True
    img = frame(hand_replay(layers, present=(True, True), heading=(-1, -1)), 1)
    for (y, x), name in [
        ((0, 4), "water"),
        ((0, 0), "wood"),
        ((0, 1), "source"),
        ((2, 4), "stone"),
        ((3, 3), "house"),
    ]:
        assert has(tile_pixels(img, y, x), LAYER_COLOURS[name]), name
    assert has(tile_pixels(img, 3, 0), AGENT_COLOURS[1])  # both agents present, no heading bar


def test_frames_stack_every_frame_and_reject_unknown_layers():
    replay = hand_replay({"apple": np.ones((4, 5), bool)})
    assert frames(replay, tile=4).shape == (2, 16, 20, 3)
    with pytest.raises(ValueError, match="no colour for layer"):
        frame(hand_replay({"lava": np.ones((4, 5), bool)}), 0)
    with pytest.raises(IndexError, match="frame 2 of a replay with 2 frames"):
        frame(replay, 2)


def test_strip_spreads_frames_from_first_to_last():
    replay = hand_replay({"apple": np.ones((4, 5), bool)})
    assert strip_indices(replay, count=6) == [0, 1]
    many = Replay(
        "hand",
        np.arange(0, 100, 10),
        {"apple": np.ones((10, 4, 5), bool)},
        np.zeros((10, 1, 2), int),
        np.ones((10, 1), bool),
        np.zeros((10, 1), int),
    )
    assert strip_indices(many, count=4) == [0, 3, 6, 9]
    fig = replay_strip(many, count=4, title="t")
    assert [ax.get_title() for ax in fig.axes] == ["step 0", "step 30", "step 60", "step 90"]
