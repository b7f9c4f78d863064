"""What each agent sees: an egocentric window of the map and a row of named numbers.

The window is ``2 view_radius + 1`` tiles square around the agent, one channel per entry of
MAP_CHANNELS; off the map is water (the state's padding). The numbers are the agent's holdings
(escrow included), labour, skills, place, the time, the order book's quotes and whatever the
mechanisms show (e.g. the tax rates in force).
"""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.envs.economy.config import EconomyConfig
from coopsim.envs.economy.market import QUOTES, Market
from coopsim.envs.economy.state import RESOURCES, STONE, WOOD, EconomyState, Grid
from coopsim.envs.observation import ObsLayout
from mechanisms.base import Pipeline

MAP_CHANNELS = ("water", "wood", "stone", "source", "house", "agent")


class Observer:
    """Writes [B, N, obs_dim] observations of B worlds; built once per world."""

    def __init__(
        self,
        config: EconomyConfig,
        grid: Grid,
        market: Market,
        pipeline: Pipeline,
        tax_period: int,
        device: torch.device,
    ):
        self.config = config
        self.grid = grid
        self.market = market
        self.pipeline = pipeline
        self.tax_period = tax_period
        self.radius = r = config.view_radius
        self.side = s = 2 * r + 1  # S: the window is S x S tiles
        self.layout = ObsLayout(
            [
                ("map", len(MAP_CHANNELS) * s * s),
                ("inventory", 3),  # coin / 100, wood / 10, stone / 10 (escrow included)
                ("labour", 1),  # labour so far / 1000
                ("skills", 2),  # build skill / max_skill, gather bonus probability
                ("position", 2),  # row / H, column / W
                ("time", 2),  # episode progress, progress through the tax period
                ("market", QUOTES * len(RESOURCES)),
                ("mechanisms", pipeline.obs_dim),
            ]
        )
        w = torch.arange(s, device=device) - r
        self._window = (w[:, None] * grid.wp + w[None, :]).reshape(-1)  # [S*S] flat offsets
        self._bits = (1 << torch.arange(5, device=device, dtype=torch.uint8))[:, None]  # [5, 1]

    def egocentric_map(self, state: EconomyState, out: Tensor | None = None) -> Tensor:
        """[B, N, C, S*S] window around each agent (channels: MAP_CHANNELS).

        Written into ``out`` when given (a view into the observation buffer), so the largest
        part of the observation is produced in one pass with no intermediate copies.
        """
        b, n = state.pos.shape
        s = self.side
        if out is None:
            out = torch.empty(b, n, len(MAP_CHANNELS), s * s, device=state.pos.device)
        idx = (state.pos[..., None] + self._window).reshape(b, -1)  # [B, N*S*S]
        code = state.code.gather(1, idx).view(b, n, 1, s * s)  # [B, N, 1, S*S] uint8
        out[:, :, :5] = (code & self._bits).clamp_(max=1)  # bits 0-4 are channels 0-4
        # Agents in view (self included, always at the centre): relative offsets in the window.
        agent = out[:, :, 5]
        agent.zero_()
        wp, r = self.grid.wp, self.radius
        dy = state.pos[:, None, :] // wp - state.pos[:, :, None] // wp  # [B, N(viewer), N]
        dx = state.pos[:, None, :] % wp - state.pos[:, :, None] % wp
        seen = (dy.abs() <= r) & (dx.abs() <= r)
        cell = ((dy + r) * s + dx + r).clamp(0, s * s - 1)
        agent.scatter_add_(2, cell, seen.float())  # add: unseen agents add 0 anywhere
        return out

    def __call__(self, state: EconomyState, t: int) -> Tensor:
        """[B, N, obs_dim] observation of every agent at step ``t`` of the episode."""
        c, g = self.config, self.grid
        b, n = state.pos.shape
        stock = state.stock + self.market.escrow_units(state)  # [B, N, R]
        coin = state.coin + self.market.escrow_coin(state)  # [B, N]
        inventory = torch.stack([coin / 100, stock[..., WOOD] / 10, stock[..., STONE] / 10], -1)
        y = (state.pos // g.wp - g.pad).float() / g.height
        x = (state.pos % g.wp - g.pad).float() / g.width
        sl = self.layout.slices
        obs = torch.empty(b, n, self.layout.size, device=state.pos.device)
        self.egocentric_map(state, obs[..., sl["map"]].view(b, n, len(MAP_CHANNELS), -1))
        obs[..., sl["inventory"]] = inventory
        obs[..., sl["labour"]] = state.labour[..., None] / 1000
        obs[..., sl["skills"]] = torch.stack(
            [state.build_skill / c.max_skill, state.gather_bonus], -1
        )
        obs[..., sl["position"]] = torch.stack([y, x], -1)
        obs[..., sl["time"].start] = t / c.episode_length
        obs[..., sl["time"].start + 1] = (t % self.tax_period) / self.tax_period
        obs[..., sl["market"]] = self.market.quotes(state).reshape(b, n, -1)
        if self.pipeline.obs_dim:
            obs[..., sl["mechanisms"]] = self.pipeline.observation(b, n, obs.device)
        return obs
