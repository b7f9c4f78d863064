"""Pictures of a world for people watching or recording an episode (``render_mode="rgb_array"``).

Spatial worlds draw their map; the others draw a compact bar chart of the last round's
per-agent variables. Both return numpy ``[H, W, 3]`` uint8, what video recorders take.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

TILE = 8  # pixels per map tile
_LAND = (222, 206, 160)
_WATER = (58, 110, 180)
_WOOD = (46, 125, 50)
_STONE = (120, 120, 120)
_AGENT_COLOURS = np.array(
    [(228, 26, 28), (255, 127, 0), (152, 78, 163), (255, 255, 51), (247, 129, 191), (0, 0, 0)],
    dtype=np.uint8,
)


def commons_image(world) -> Tensor:
    """World 0 of a :class:`~coopsim.envs.commons.CommonsWorld` as [H*TILE, W*TILE, 3] uint8:
    grass, walls, apples standing now, and each agent as a dot (grey while tagged out)."""
    h, w, p = world.height, world.width, world.pad
    walls = world.walls.view(world.hp, world.wp)[p : p + h, p : p + w].cpu().numpy()
    apples = world.apple_grid()[0].cpu().numpy()  # [H, W]
    img = np.empty((h, w, 3), dtype=np.uint8)
    img[:] = _LAND
    img[walls] = _STONE
    img[apples] = _WOOD
    img = img.repeat(TILE, 0).repeat(TILE, 1)  # [H*TILE, W*TILE, 3]
    pos = world.positions()[0].cpu().numpy()  # [N, 2]
    out = (world.out[0] > 0).cpu().numpy()  # [N]
    lo, hi = TILE // 4, TILE - TILE // 4
    for i, (y, x) in enumerate(pos):  # N dots on one picture, not a hot path
        colour = (160, 160, 160) if out[i] else _AGENT_COLOURS[i % len(_AGENT_COLOURS)]
        img[y * TILE + lo : y * TILE + hi, x * TILE + lo : x * TILE + hi] = colour
    return torch.from_numpy(img)


def chart_image(title: str, values: dict[str, np.ndarray]) -> np.ndarray:
    """A bar chart [H, W, 3] uint8: one group of bars per variable, one bar per agent."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 2.5), dpi=80)
    ax = fig.add_subplot()
    names = list(values)
    if names:
        n = len(next(iter(values.values())))
        width = 0.8 / n
        for i in range(n):
            ax.bar(
                np.arange(len(names)) + i * width,
                [float(values[k][i]) for k in names],
                width,
                label=f"agent_{i}",
            )
        ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names, fontsize=7)
        if n <= 8:
            ax.legend(fontsize=6, loc="upper right")
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    canvas = FigureCanvasAgg(fig)  # drawn off-screen, whatever pyplot's backend is
    canvas.draw()
    return np.array(canvas.buffer_rgba())[..., :3]
