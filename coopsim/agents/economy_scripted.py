"""A scripted worker for the gather-trade-build economy: gather wood and stone, then build.

It reads only its observation (the egocentric map window and its inventory), like a learner
would, and acts for all B worlds and its n agents at once:

1. holding at least one wood and one stone: build if its tile is free land, else walk to the
   nearest free land tile in view;
2. otherwise it wants the resource it holds less of (wood on a tie): gather it if it stands on
   it, else walk to the nearest tile in view where it is present;
3. with nothing useful in view it takes a random step.

Walking moves along the axis with the larger distance first (rows on a tie). Optionally it
sells surplus beyond ``keep`` units of a resource at ``ask_price``, so a market forms when
such workers meet buyers. The free market, US federal and Saez scenarios use it to give every
tax regime a population whose behaviour is known before any learning happens.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from coopsim.agents.policy import ScriptedPolicy
from coopsim.envs.base import WorldSpec
from coopsim.schema import param

# map channels, in the order of coopsim.envs.economy.MAP_CHANNELS
_WATER, _WOOD, _STONE, _SOURCE, _HOUSE, _AGENT = range(6)
_REST, _UP, _DOWN, _LEFT, _RIGHT, _GATHER, _BUILD = range(7)


@dataclass
class GatherBuildParams:
    sell_surplus: bool = param(False, help="Post asks for units held beyond 'keep'")
    keep: int = param(
        2, help="Units of each resource kept before selling the surplus", ge=0, le=1_000_000
    )
    ask_price: int = param(
        5, help="Price asked for surplus units", ge=0, le=1000
    )  # the economy's max_price is at most 1000


class GatherBuild(ScriptedPolicy):
    name = "gather_build"
    Params = GatherBuildParams
    summary = "Economy worker: gathers the scarcer of wood and stone, builds when it has both."

    def __init__(self, spec: WorldSpec, params: GatherBuildParams | None = None):
        if spec.map_shape is None or "inventory" not in spec.obs_fields:
            raise ValueError("gather_build needs an economy world (a map and an inventory)")
        super().__init__(spec, params or GatherBuildParams())
        c, s, _ = spec.map_shape
        self.side = s
        r = s // 2
        off = torch.arange(s) - r
        self._dy = off[:, None].expand(s, s).reshape(-1)  # [S*S] row offset of each cell
        self._dx = off[None, :].expand(s, s).reshape(-1)  # [S*S] column offset
        self._centre = r * s + r

    def share(self, obs, gen):  # pragma: no cover - act is overridden
        raise NotImplementedError

    def _step_towards(self, target: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        """target [B, n, S*S] bool -> (move act [B, n], found [B, n]) toward the nearest."""
        dy, dx = self._dy.to(target.device), self._dx.to(target.device)
        dist = (dy.abs() + dx.abs()).float()  # [S*S]
        dist = torch.where(target, dist, float("inf"))
        best = dist.argmin(-1)  # [B, n] first nearest cell (row-major)
        found = torch.isfinite(dist.min(-1).values)
        ty, tx = dy[best], dx[best]
        vertical = ty.abs() >= tx.abs()
        act = torch.where(
            vertical,
            torch.where(ty < 0, _UP, _DOWN),
            torch.where(tx < 0, _LEFT, _RIGHT),
        )
        return act, found

    def act(self, obs: Tensor, gen: torch.Generator, mask: Tensor | None = None) -> Tensor:
        b, n, _ = obs.shape
        c, s, _ = self.spec.map_shape
        grid = obs[..., self.spec.obs_fields["map"]].reshape(b, n, c, s * s) > 0.5
        inv = self.field(obs, "inventory")  # [B, n, 3] coin/100, wood/10, stone/10
        wood = torch.round(inv[..., 1] * 10)
        stone = torch.round(inv[..., 2] * 10)
        land = ~(grid[:, :, _WATER] | grid[:, :, _SOURCE] | grid[:, :, _HOUSE])
        free_land = land & ~grid[:, :, _AGENT]
        here_land = land[..., self._centre]  # [B, n]
        want_stone = stone < wood
        res_map = torch.where(want_stone[..., None], grid[:, :, _STONE], grid[:, :, _WOOD])
        here_res = res_map[..., self._centre]
        can_build = (wood >= 1) & (stone >= 1)

        to_land, land_found = self._step_towards(free_land, gen)
        to_res, res_found = self._step_towards(res_map, gen)
        rand_step = torch.randint(1, 5, (b, n), generator=gen, device=obs.device)
        gather_act = torch.where(
            here_res, _GATHER, torch.where(res_found, to_res, rand_step)
        )  # [B, n]
        build_act = torch.where(here_land, _BUILD, torch.where(land_found, to_land, rand_step))
        act = torch.where(can_build, build_act, gather_act)

        actions = torch.zeros(b, n, len(self.spec.action_nvec), dtype=torch.long, device=obs.device)
        actions[..., 0] = act
        p = self.params
        if p.sell_surplus:
            levels = (self.spec.action_nvec[1] - 1) // 2
            price = min(p.ask_price, levels - 1)
            ask = 1 + levels + price
            actions[..., 1] = torch.where(wood > p.keep, ask, 0)
            actions[..., 2] = torch.where(stone > p.keep, ask, 0)
        return actions
