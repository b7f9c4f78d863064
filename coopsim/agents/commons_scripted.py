"""Scripted harvesters for the commons: a greedy one and a restrained one.

Both read only their egocentric window (rotated so the agent faces up: forward is the row
above, step left the column to the left), and act for all B worlds and n agents at once:

1. a *target* is the nearest apple in view (Manhattan distance, the first in reading order on
   a tie) that the harvester is willing to take;
2. it steps towards it along the axis with the larger distance first (rows on a tie), then
   the other axis, never into a wall or another agent, and (restrained) never onto an apple
   it is not willing to take, since stepping on an apple takes it;
3. with no target in view, or both steps towards it blocked, it takes a random allowed step.

The greedy harvester takes every apple. The restrained harvester takes an apple only when at
least ``min_neighbours`` other apples stand within ``radius`` of it, so no patch is stripped
below the density at which it regrows: with the commons' defaults (radius 2, regrowth
fastest from 3 neighbours) it leaves each patch able to regrow at the top rate. Neither
fires the beam. They are the cooperator and the defector of the Schelling diagram
(:mod:`coopsim.analysis.schelling`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from coopsim.agents.policy import ScriptedPolicy
from coopsim.envs.base import WorldSpec
from coopsim.schema import param

# map channels, in the order of coopsim.envs.commons.MAP_CHANNELS
_WALL, _APPLE, _AGENT = range(3)
_FORWARD, _BACKWARD, _STEP_LEFT, _STEP_RIGHT = 1, 2, 3, 4
# (row, column) step of each move act in the egocentric window
_STEPS = {_FORWARD: (-1, 0), _BACKWARD: (1, 0), _STEP_LEFT: (0, -1), _STEP_RIGHT: (0, 1)}


@dataclass
class HarvesterParams:
    min_neighbours: int = param(
        0, help="Take an apple only with at least this many other apples near it", ge=0, le=40
    )
    radius: float = param(2.0, help="Distance within which apples count as near", ge=0, le=8)


class Harvester(ScriptedPolicy):
    """Walks to the nearest apple it is willing to take; see the module docstring."""

    name = "harvester"
    Params = HarvesterParams
    summary = "Commons harvester: walks to the nearest apple it is willing to take."

    def __init__(self, spec: WorldSpec, params: HarvesterParams | None = None):
        if spec.map_shape is None or spec.head_names != ("act",) or spec.action_nvec != (8,):
            raise ValueError(f"{self.name} needs a commons world (a map and its 8 acts)")
        super().__init__(spec, params or self.Params())
        _, s, _ = spec.map_shape
        self.side = s
        r = s // 2
        off = torch.arange(s) - r
        self._dy = off[:, None].expand(s, s).reshape(-1)  # [S*S] row offset of each cell
        self._dx = off[None, :].expand(s, s).reshape(-1)  # [S*S] column offset of each cell
        k = int(self.params.radius)
        grid = torch.arange(-k, k + 1, dtype=torch.float)
        disc = (grid[:, None] ** 2 + grid[None, :] ** 2) <= self.params.radius**2 + 1e-9
        disc[k, k] = False
        self._disc = disc.float()[None, None]  # [1, 1, 2k+1, 2k+1] the other tiles near one
        self._centre = r * s + r
        # [4] flat window index of the tile each move act leads to
        self._step_cells = torch.tensor([(r + dy) * s + r + dx for dy, dx in _STEPS.values()])

    def share(self, obs, gen):  # pragma: no cover - act is overridden
        raise NotImplementedError

    def willing(self, apple: Tensor) -> Tensor:
        """[M, S, S] apples in view -> [M, S, S] bool, the apples this harvester would take
        (apples beyond the window are not counted, so it errs on the side of restraint)."""
        if self.params.min_neighbours == 0:
            return apple > 0
        k = self._disc.shape[-1] // 2
        near = F.conv2d(apple[:, None], self._disc.to(apple.device), padding=k)[:, 0]
        return (apple > 0) & (near >= self.params.min_neighbours - 1e-6)

    def act(self, obs: Tensor, gen: torch.Generator, mask: Tensor | None = None) -> Tensor:
        b, n, _ = obs.shape
        s, dev = self.side, obs.device
        window = self.field(obs, "map").reshape(b * n, 3, s, s)
        apple = window[:, _APPLE]
        take = self.willing(apple).reshape(b * n, -1)  # [M, S*S]
        dist = self._dy.to(dev).abs() + self._dx.to(dev).abs()  # [S*S]
        score = torch.where(take, dist.float(), float("inf"))
        score[:, self._centre] = float("inf")
        best = score.argmin(-1)  # [M] first nearest in reading order
        has = torch.isfinite(score.gather(1, best[:, None]))[:, 0]
        dy, dx = self._dy.to(dev)[best], self._dx.to(dev)[best]  # [M]

        # Which of the four steps are open: no wall, no agent, no apple it would not take.
        cells = self._step_cells.to(dev)
        flat = window.reshape(b * n, 3, -1)[:, :, cells]  # [M, 3, 4]
        refused = (flat[:, _APPLE] > 0) & ~take[:, cells]
        open_ = (flat[:, _WALL] == 0) & (flat[:, _AGENT] == 0) & ~refused  # [M, 4]
        vertical = torch.where(dy < 0, _FORWARD, _BACKWARD)
        horizontal = torch.where(dx < 0, _STEP_LEFT, _STEP_RIGHT)
        rows_first = dy.abs() >= dx.abs()
        first = torch.where(rows_first, vertical, horizontal)  # [M] act
        second = torch.where(rows_first, horizontal, vertical)
        first_ok = open_.gather(1, (first - 1)[:, None])[:, 0] & torch.where(
            rows_first, dy != 0, dx != 0
        )
        second_ok = open_.gather(1, (second - 1)[:, None])[:, 0] & torch.where(
            rows_first, dx != 0, dy != 0
        )
        noise = torch.rand(b * n, 4, generator=gen, device=dev)
        wander = torch.where(open_, noise, -1.0).argmax(-1) + 1  # [M] a random open step
        wander = torch.where(open_.any(-1), wander, 0)
        act = torch.where(has & first_ok, first, torch.where(has & second_ok, second, wander))
        return act.reshape(b, n, 1).long()


@dataclass
class GreedyParams(HarvesterParams):
    pass


@dataclass
class RestrainedParams(HarvesterParams):
    min_neighbours: int = param(
        3, help="Take an apple only with at least this many other apples near it", ge=0, le=40
    )


class GreedyHarvester(Harvester):
    name = "greedy_harvester"
    Params = GreedyParams
    summary = "Commons defector: takes the nearest apple, whatever it leaves behind."


class RestrainedHarvester(Harvester):
    name = "restrained_harvester"
    Params = RestrainedParams
    summary = "Commons cooperator: takes an apple only where enough others stand near to regrow."
