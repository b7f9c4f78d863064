"""Pictures of an episode replay (:mod:`coopsim.replay`): RGB frames and a strip of them.

A frame is plain numpy, ``[H * tile, W * tile, 3]`` uint8, so the app can show it under a
slider, a notebook as an image and a video writer as a frame. Tile layers are painted in a fixed
order (ground first, then what stands on it) with one colour each; agents are squares in their
own colour with a dark bar on the side they face (worlds without headings: none), and an agent
tagged out of the game is a grey outline on the tile it returns to. :func:`replay_strip` lays a
few frames side by side as a figure for reports.
"""

from __future__ import annotations

import numpy as np

from coopsim.figures.style import CoopsimFigure
from coopsim.replay import Replay

TILE = 8  # pixels per map tile
GROUND = (222, 206, 160)
#: Colour of each tile layer a world may declare, in painting order (later over earlier).
LAYER_COLOURS: dict[str, tuple[int, int, int]] = {
    "water": (58, 110, 180),
    "source": (190, 180, 140),  # a resource tile whose resource has not regrown
    "wood": (46, 125, 50),
    "stone": (120, 120, 120),
    "house": (121, 85, 72),
    "wall": (90, 90, 90),
    "apple": (67, 160, 71),
}
AGENT_COLOURS = np.array(
    [
        (228, 26, 28),
        (55, 126, 184),
        (255, 127, 0),
        (152, 78, 163),
        (255, 255, 51),
        (247, 129, 191),
        (166, 86, 40),
        (0, 0, 0),
    ],
    dtype=np.uint8,
)
TAGGED_OUT = (150, 150, 150)
STRIP_FRAMES = 6  # frames a report's strip shows


def _check_layers(replay: Replay) -> None:
    unknown = sorted(set(replay.layers) - set(LAYER_COLOURS))
    if unknown:
        raise ValueError(
            f"replay of {replay.kind!r}: no colour for layer(s) {', '.join(unknown)}; "
            f"known: {', '.join(LAYER_COLOURS)}"
        )


def frame(replay: Replay, index: int, tile: int = TILE) -> np.ndarray:
    """Frame ``index`` of the replay as ``[H * tile, W * tile, 3]`` uint8."""
    if not -replay.num_frames <= index < replay.num_frames:
        raise IndexError(f"frame {index} of a replay with {replay.num_frames} frames")
    if tile < 4:
        raise ValueError(f"tile must be >= 4 pixels to show an agent's heading, got {tile}")
    _check_layers(replay)
    h, w = replay.shape
    img = np.empty((h, w, 3), dtype=np.uint8)  # [H, W, 3]
    img[:] = GROUND
    for name, colour in LAYER_COLOURS.items():
        if name in replay.layers:
            img[replay.layers[name][index]] = colour
    img = img.repeat(tile, 0).repeat(tile, 1)  # [H * tile, W * tile, 3]
    lo, hi = tile // 8, tile - tile // 8  # an agent's square inside its tile
    bar = max(1, tile // 4)  # thickness of the heading bar
    positions = replay.positions[index]  # [N, 2]
    present = replay.present[index]  # [N]
    heading = replay.heading[index]  # [N]
    for i, (y, x) in enumerate(positions):  # N squares on one picture, not a hot path
        y0, x0 = int(y) * tile, int(x) * tile
        square = img[y0 + lo : y0 + hi, x0 + lo : x0 + hi]
        if not present[i]:
            square[[0, -1], :] = TAGGED_OUT
            square[:, [0, -1]] = TAGGED_OUT
            continue
        colour = AGENT_COLOURS[i % len(AGENT_COLOURS)]
        square[:] = colour
        dark = (colour * 0.4).astype(np.uint8)
        side = int(heading[i])
        if side == 0:
            square[:bar] = dark
        elif side == 1:
            square[:, -bar:] = dark
        elif side == 2:
            square[-bar:] = dark
        elif side == 3:
            square[:, :bar] = dark
    return img


def frames(replay: Replay, tile: int = TILE) -> np.ndarray:
    """Every frame of the replay, ``[F, H * tile, W * tile, 3]`` uint8."""
    return np.stack([frame(replay, k, tile) for k in range(replay.num_frames)])


def strip_indices(replay: Replay, count: int = STRIP_FRAMES) -> list[int]:
    """``count`` frames evenly spread from the first to the last (all if there are fewer)."""
    if replay.num_frames <= count:
        return list(range(replay.num_frames))
    return sorted({round(k) for k in np.linspace(0, replay.num_frames - 1, count)})


def replay_strip(replay: Replay, count: int = STRIP_FRAMES, title: str = "") -> CoopsimFigure:
    """A figure of ``count`` frames side by side, each titled with its step."""
    picks = strip_indices(replay, count)
    h, w = replay.shape
    width = 1.9 * len(picks)
    fig = CoopsimFigure(figsize=(width, 1.9 * h / w + 0.6))
    axes = fig.subplots(1, len(picks), squeeze=False)[0]
    for ax, k in zip(axes, picks):
        ax.imshow(frame(replay, k), interpolation="nearest")
        ax.set_title(f"step {int(replay.steps[k])}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
