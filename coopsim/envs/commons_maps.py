"""Text maps of the commons: walls, apple patches and spawn points.

Legend: ``W`` wall, ``A`` an apple (its tile can regrow one), ``P`` a spawn point, ``.`` or a
space open ground. Rows may differ in length (short rows are padded with open ground); the
world surrounds the map with walls, so an open edge is still closed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

WALL, APPLE, SPAWN, EMPTY = "W", "A", "P", "."
LEGEND = {WALL, APPLE, SPAWN, EMPTY, " "}

#: Five diamond patches of 13 apples (radius 2, the regrowth radius, so a patch regrows from
#: its own apples) around a corridor of ten spawn points.
DEFAULT_MAP = """
WWWWWWWWWWWWWWWWWWWWWWW
W.....................W
W..A.......A.......A..W
W.AAA.....AAA.....AAA.W
WAAAAA...AAAAA...AAAAAW
W.AAA.....AAA.....AAA.W
W..A.......A.......A..W
W.....................W
W.P.P.P.P.P.P.P.P.P.P.W
W.....................W
W......A.......A......W
W.....AAA.....AAA.....W
W....AAAAA...AAAAA....W
W.....AAA.....AAA.....W
W......A.......A......W
W.....................W
WWWWWWWWWWWWWWWWWWWWWWW
"""


@dataclass(frozen=True)
class CommonsMap:
    """A parsed map: one bool grid per kind of tile."""

    walls: Tensor  # [H, W] bool
    apples: Tensor  # [H, W] bool, tiles that start with an apple and can regrow one
    spawns: Tensor  # [H, W] bool

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.walls.shape)


def parse_map(text: str, source: str = "map_text") -> CommonsMap:
    """Text in the legend above -> a :class:`CommonsMap`; bad characters name row and column."""
    rows = [r for r in text.strip("\n").split("\n") if r.strip()]
    if not rows:
        raise ValueError(f"{source}: the map is empty")
    width = max(len(r) for r in rows)
    grid = [r.ljust(width, EMPTY) for r in rows]
    for y, row in enumerate(grid):
        for x, ch in enumerate(row):
            if ch not in LEGEND:
                raise ValueError(
                    f"{source}: row {y}, column {x}: got {ch!r}, allowed: W wall, A apple, "
                    "P spawn point, '.' or ' ' open ground"
                )

    def mask(ch: str) -> Tensor:
        return torch.tensor([[c == ch for c in row] for row in grid], dtype=torch.bool)

    parsed = CommonsMap(walls=mask(WALL), apples=mask(APPLE), spawns=mask(SPAWN))
    if not bool(parsed.apples.any()):
        raise ValueError(f"{source}: the map has no apples (A)")
    return parsed
