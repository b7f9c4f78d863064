"""Map layouts for the gather-trade-build economy, generated for B worlds at once.

A layout is a tile-kind grid ``[B, H, W]`` (int8) with these kinds:

====  =====  ===========================================================
code  char   meaning
====  =====  ===========================================================
0     ``.``  empty land: agents walk and build houses here
1     ``W``  water: impassable, nothing grows, nothing is built
2     ``w``  wood source: a tree grows here and regrows after gathering
3     ``s``  stone source: stone lies here and reappears after gathering
====  =====  ===========================================================

The same legend reads text maps (``layout = "file"`` with ``map_file``, or ``map_text``): one
line per row, one character per tile, all lines the same length; blank lines at either end and
trailing whitespace are ignored, and ``#`` starts a comment line.

Layouts:

- ``quadrant`` (the AI Economist's open-quadrant map, regenerated per world): a cross of water
  splits the map into four quadrants, each arm of the cross with one opening of two tiles at a
  random place; wood grows densely in the top-left quadrant, stone in the bottom-right, both
  sparsely in the top-right, and the bottom-left is open land for building. Resource patches are
  random per world, so agents cannot memorise one map.
- ``uniform``: wood and stone sources scattered uniformly at random with the given densities.
- ``file``/``text``: one fixed map for every world.
- ``builtin``: a map shipped in ``coopsim/envs/economy/layouts/`` (:data:`BUILTIN`), read
  with :func:`builtin_map`; ``simple_wood_and_stone`` is the AI Economist's fixed 25x25
  layout, the map of its paper's experiments.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import torch
from torch import Tensor

EMPTY, WATER, WOOD, STONE = 0, 1, 2, 3
BUILTIN = ("simple_wood_and_stone",)  # maps shipped in the package's layouts/ folder
LEGEND = {".": EMPTY, "W": WATER, "w": WOOD, "s": STONE}


def parse_map(text: str, source: str = "map") -> Tensor:
    """Text in the legend above -> tile kinds [H, W] int8; ValueError names the bad spot."""
    rows = [
        line.rstrip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not rows:
        raise ValueError(f"{source}: the map is empty")
    width = len(rows[0])
    grid = []
    for r, line in enumerate(rows):
        if len(line) != width:
            raise ValueError(
                f"{source}: row {r} has {len(line)} tiles but row 0 has {width}; "
                "every row must be the same length"
            )
        bad = [ch for ch in line if ch not in LEGEND]
        if bad:
            raise ValueError(
                f"{source}: row {r} has unknown tile {bad[0]!r}; allowed: "
                + ", ".join(f"{k!r} ({_NAMES[v]})" for k, v in LEGEND.items())
            )
        grid.append([LEGEND[ch] for ch in line])
    return torch.tensor(grid, dtype=torch.int8)


_NAMES = {EMPTY: "empty", WATER: "water", WOOD: "wood source", STONE: "stone source"}


def read_map_file(path: str | Path) -> Tensor:
    p = Path(path)
    if not p.exists():
        raise ValueError(f"map_file: no such file {str(p)!r}")
    return parse_map(p.read_text(), source=str(p))


@cache
def builtin_map(name: str) -> Tensor:
    """A shipped map by name -> tile kinds [H, W] int8 (read once; callers must not write)."""
    if name not in BUILTIN:
        raise ValueError(f"map_name: no shipped map {name!r}; allowed: {', '.join(BUILTIN)}")
    text = resources.files("coopsim.envs.economy").joinpath("layouts", f"{name}.txt")
    return parse_map(text.read_text(), source=f"layouts/{name}.txt")


def quadrant(
    batch: int,
    height: int,
    width: int,
    gen: torch.Generator,
    device: torch.device,
    density: float = 0.45,
    sparse_density: float = 0.1,
) -> Tensor:
    """The open-quadrant layout, a different random draw in each of the B worlds: [B, H, W]."""
    ys = torch.arange(height, device=device)[:, None]  # [H, 1]
    xs = torch.arange(width, device=device)[None, :]  # [1, W]
    my, mx = height // 2, width // 2
    top, left = ys < my, xs < mx  # [H, 1], [1, W]
    bottom, right = ys > my, xs > mx
    noise = torch.rand(batch, 2, height, width, generator=gen, device=device)  # [B, 2, H, W]
    wood = (top & left) & (noise[:, 0] < density) | (top & right) & (noise[:, 0] < sparse_density)
    stone = (bottom & right) & (noise[:, 1] < density) | (top & right) & (
        noise[:, 1] < sparse_density
    )
    stone = stone & ~wood
    kinds = torch.full((batch, height, width), EMPTY, dtype=torch.int8, device=device)
    kinds[wood] = WOOD
    kinds[stone] = STONE
    # The water cross, each of its four arms with one two-tile opening at a random place.
    wall = (ys == my) | (xs == mx)  # [H, W]
    kinds[:, wall] = WATER
    arm_len = torch.tensor([mx, width - mx - 1, my, height - my - 1], device=device)  # [4]
    u = torch.rand(batch, 4, generator=gen, device=device)  # [B, 4]
    start = (u * (arm_len - 1).clamp(min=1)).long()  # [B, 4] first tile of each opening
    offs = torch.tensor([0, mx + 1, 0, my + 1], device=device)  # [4] where each arm begins
    pos = start + offs  # [B, 4]
    bidx = torch.arange(batch, device=device)
    for k in range(2):  # two tiles per opening (a fixed, tiny loop over the opening's width)
        p = (pos + k).clamp(max=max(height, width) - 1)
        kinds[bidx, my, p[:, 0].clamp(max=width - 1)] = EMPTY  # left arm of the row wall
        kinds[bidx, my, p[:, 1].clamp(max=width - 1)] = EMPTY  # right arm
        kinds[bidx, p[:, 2].clamp(max=height - 1), mx] = EMPTY  # upper arm of the column wall
        kinds[bidx, p[:, 3].clamp(max=height - 1), mx] = EMPTY  # lower arm
    return kinds


def uniform(
    batch: int,
    height: int,
    width: int,
    gen: torch.Generator,
    device: torch.device,
    density: float = 0.15,
) -> Tensor:
    """Wood and stone sources scattered independently, each with probability ``density``."""
    u = torch.rand(batch, height, width, generator=gen, device=device)  # [B, H, W]
    kinds = torch.full((batch, height, width), EMPTY, dtype=torch.int8, device=device)
    kinds[u < density] = WOOD
    kinds[(u >= density) & (u < 2 * density)] = STONE
    return kinds


def to_text(kinds: Tensor) -> str:
    """Tile kinds [H, W] -> the text form (the inverse of :func:`parse_map`)."""
    chars = {v: k for k, v in LEGEND.items()}
    return "\n".join("".join(chars[int(v)] for v in row) for row in kinds.tolist())
