"""The economy's map as a picture (``render_mode="rgb_array"``)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from coopsim.envs.economy.maps import WATER
from coopsim.envs.render import _AGENT_COLOURS, _LAND, _STONE, _WATER, _WOOD, TILE

_EMPTY_SOURCE = (190, 180, 140)  # a source whose resource has not regrown yet
_HOUSE = (121, 85, 72)


def economy_image(world) -> Tensor:
    """World 0 of an :class:`~coopsim.envs.economy.EconomyWorld` as [H*TILE, W*TILE, 3] uint8:
    land, water, wood and stone present, empty sources, houses, and each agent as a dot."""
    h, w = world.height, world.width
    kinds = world.grid.unpad(world.state.tiles[:1])[0].cpu().numpy()  # [H, W]
    present = world.resources()[0].cpu().numpy()  # [R, H, W]
    houses = world.houses()[0].cpu().numpy()  # [H, W]
    img = np.empty((h, w, 3), dtype=np.uint8)
    img[:] = _LAND
    img[kinds == WATER] = _WATER
    img[(kinds != WATER) & (kinds != 0)] = _EMPTY_SOURCE
    img[present[0]] = _WOOD
    img[present[1]] = _STONE
    img[houses >= 0] = _HOUSE
    img = img.repeat(TILE, 0).repeat(TILE, 1)  # [H*TILE, W*TILE, 3]
    pos = world.positions()[0].cpu().numpy()  # [N, 2]
    lo, hi = TILE // 4, TILE - TILE // 4
    for i, (y, x) in enumerate(pos):  # N dots on one picture, not a hot path
        colour = _AGENT_COLOURS[i % len(_AGENT_COLOURS)]
        img[y * TILE + lo : y * TILE + hi, x * TILE + lo : x * TILE + hi] = colour
    return torch.from_numpy(img)
