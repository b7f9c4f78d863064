"""What the kits build and play: the world under test, fresh at any batch size and device,
and the fixed seeds every comparison plays under."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from coopsim.envs import WORLDS
from coopsim.envs.base import World
from coopsim.schema import build
from mechanisms.base import Mechanism, Pipeline

SEED = 11  # the episode seed the kit plays; SEED + 1 is "a different seed"
DRAW_SEED = 5  # seeds the kit's action draws, never the world's

MechanismFactory = Callable[[int, int, torch.device], list[Mechanism]]  # (N, B, device)


@dataclass(frozen=True)
class WorldRecipe:
    """How to build the world under test at any batch size and device, fresh each time."""

    kind: str
    config: object  # the world's config dataclass
    subject: str  # how messages name it: "world 'economy'"
    mechanisms: MechanismFactory = field(default=lambda n, b, device: [])

    def build(self, batch_size: int, device: str | torch.device = "cpu") -> World:
        device = torch.device(device)
        world_cls = WORLDS[self.kind][1]
        config = copy.deepcopy(self.config)
        pipeline = Pipeline(self.mechanisms(config.num_agents, batch_size, device))
        return world_cls(config, pipeline, batch_size, device)


def world_recipe(kind: str, overrides: dict, subject: str | None = None) -> WorldRecipe:
    """The registered world ``kind`` with ``overrides`` applied to its config (validated as a
    scenario's ``[world]`` table is)."""
    if kind not in WORLDS:
        raise ValueError(f"unknown world kind {kind!r}; registered: {', '.join(WORLDS)}")
    config = build(WORLDS[kind][0], {"kind": kind, **overrides}, prefix="world")
    return WorldRecipe(kind, config, subject or f"world {kind!r}")
