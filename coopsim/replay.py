"""Episode replays of spatial worlds: what world 0 looked like every few steps of one episode.

Evaluation records one (:class:`ReplayRecorder`) for every world that declares a
:meth:`~coopsim.envs.base.World.drawable_state`, and the run directory keeps it as
``replay.npz``: states, not pixels, at most :data:`MAX_FRAMES` of them whatever the episode's
length, so the file stays a few tens of kilobytes and a renderer
(:mod:`coopsim.figures.replay`) draws it however a page needs. The file is written atomically,
like every other file of a run.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coopsim.envs.base import DrawableState, World
from coopsim.files import atomic_file

REPLAY = "replay.npz"
MAX_FRAMES = 100  # frames one replay keeps at most, first and last step included
_LAYER = "layer_"
_FIELDS = ("kind", "steps", "positions", "present", "heading")


@dataclass
class Replay:
    """States of world 0 at ``steps``; F frames of an H x W map with N agents."""

    kind: str  # the world's kind, as in the scenario
    steps: np.ndarray  # [F] int, the step each frame shows (0: after reset)
    layers: dict[str, np.ndarray]  # name -> [F, H, W] bool
    positions: np.ndarray  # [F, N, 2] int (row, column)
    present: np.ndarray  # [F, N] bool, False while tagged out
    heading: np.ndarray  # [F, N] int 0..3 (north, east, south, west); -1 where none

    @property
    def num_frames(self) -> int:
        return len(self.steps)

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) of the map."""
        return next(iter(self.layers.values())).shape[1:]

    @classmethod
    def from_states(cls, kind: str, steps: list[int], states: list[DrawableState]) -> Replay:
        if not states:
            raise ValueError("a replay needs at least one state")
        n = states[0].positions.shape[0]
        none = np.full(n, -1, dtype=np.int8)
        return cls(
            kind=kind,
            steps=np.asarray(steps, dtype=np.int32),
            layers={
                name: np.stack([s.layers[name].numpy() for s in states]).astype(bool)
                for name in states[0].layers
            },
            positions=np.stack([s.positions.numpy() for s in states]).astype(np.int16),
            present=np.stack([s.present.numpy() for s in states]).astype(bool),
            heading=np.stack(
                [none if s.heading is None else s.heading.numpy() for s in states]
            ).astype(np.int8),
        )


class ReplayRecorder:
    """Collects world 0's state after reset, every ``every`` steps, and at the episode's end;
    ``every`` is chosen from the horizon so that no replay exceeds ``max_frames``."""

    def __init__(self, world: World, max_frames: int = MAX_FRAMES):
        if max_frames < 2:
            raise ValueError(f"max_frames must be >= 2 (first and last step), got {max_frames}")
        self.world = world
        self.every = max(1, math.ceil(world.spec.horizon / (max_frames - 1)))
        self.steps: list[int] = []
        self.states: list[DrawableState] = []

    def capture(self, done: bool = False) -> None:
        """Keep the state now if it is a recorded step (or the last of the episode)."""
        t = self.world.t
        if t % self.every and not done:
            return
        state = self.world.drawable_state()
        if state is None:
            raise TypeError(f"{type(self.world).__name__} has no drawable state to record")
        self.steps.append(t)
        self.states.append(state)

    def replay(self) -> Replay:
        return Replay.from_states(self.world.kind, self.steps, self.states)


def save_replay(path: str | os.PathLike, replay: Replay) -> None:
    """Write ``replay`` to ``path`` (.npz, compressed) so readers see all of it or nothing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        "kind": np.asarray(replay.kind),
        "steps": replay.steps,
        "positions": replay.positions,
        "present": replay.present,
        "heading": replay.heading,
        **{_LAYER + name: layer for name, layer in replay.layers.items()},
    }
    with atomic_file(path) as fh:
        np.savez_compressed(fh, **arrays)


def load_replay(path: str | os.PathLike) -> Replay:
    """Read a ``replay.npz``; a file that is not one is an error naming it and what is missing."""
    path = Path(path)
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in _FIELDS if k not in data.files]
        layers = {
            k[len(_LAYER) :]: data[k].astype(bool) for k in data.files if k.startswith(_LAYER)
        }
        if missing or not layers:
            what = ", ".join(missing + ([] if layers else ["layer_* arrays"]))
            raise ValueError(f"{path}: not a replay file, missing {what}")
        replay = Replay(
            kind=str(data["kind"]),
            steps=data["steps"],
            layers=layers,
            positions=data["positions"],
            present=data["present"].astype(bool),
            heading=data["heading"],
        )
    f, n = replay.positions.shape[:2]
    if {len(replay.steps), *(v.shape[0] for v in layers.values()), replay.present.shape[0]} != {f}:
        raise ValueError(f"{path}: arrays disagree on the number of frames")
    if replay.present.shape != (f, n) or replay.heading.shape != (f, n):
        raise ValueError(f"{path}: present and heading must be [frames, agents] = [{f}, {n}]")
    return replay
