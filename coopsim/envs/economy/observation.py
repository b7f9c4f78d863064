"""What each agent sees: an egocentric window of the map and a row of named numbers.

The window is ``2 view_radius + 1`` tiles square around the agent, one channel per entry of
MAP_CHANNELS; off the map is water (the state's padding). The numbers are the agent's holdings
(escrow included), labour, skills, place, the time, the order book's quotes and whatever the
mechanisms show (e.g. the tax rates in force).
"""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.envs.economy import native
from coopsim.envs.economy.config import EconomyConfig
from coopsim.envs.economy.market import QUOTES, Market
from coopsim.envs.economy.state import RESOURCES, EconomyState, Grid
from coopsim.envs.observation import ObsLayout
from mechanisms.base import Pipeline

MAP_CHANNELS = ("water", "wood", "stone", "source", "house", "agent")
AGENT_BIT = 32  # bit 5 of a tile's flags, set only while the map channels are read


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
        # Bits 0-4 of a tile's flags are channels 0-4; the agent channel is read from bit 5,
        # set on the agents' tiles for the one gather that reads every channel.
        self._bits = (1 << torch.arange(6, device=device, dtype=torch.uint8))[:, None]  # [6, 1]
        # Each padded tile's (row / H, column / W) on the map, looked up by position.
        tile = torch.arange(grid.hp * grid.wp, device=device)
        self._place = torch.stack(
            [
                torch.div(tile // grid.wp - grid.pad, grid.height),
                torch.div(tile % grid.wp - grid.pad, grid.width),
            ],
            -1,
        )  # [T, 2]
        self._scratch: tuple[Tensor, Tensor, Tensor] | None = None  # see _buffers
        self._clocks: dict[int, Tensor] = {}  # step -> its two time fields, see _clock
        sl = self.layout.slices  # the fields after the map, as offsets from its end
        self._tail_start = sl["map"].stop
        self._market_start = sl["market"].start - self._tail_start
        self._market_stop = sl["market"].stop - self._tail_start

    def egocentric_map(self, state: EconomyState, out: Tensor | None = None) -> Tensor:
        """[B, N, C, S*S] window around each agent (channels: MAP_CHANNELS).

        Written into ``out`` when given (a view into the observation buffer), so the largest
        part of the observation is produced in one pass with no intermediate copies. Agents
        stand on distinct tiles, so the agent channel is 1 where an agent stands (the viewer
        itself at the centre) and 0 elsewhere.
        """
        b, n = state.pos.shape
        s = self.side
        if out is None:
            out = torch.empty(b, n, len(MAP_CHANNELS), s * s, device=state.pos.device)
        code, pos = state.code, state.pos
        idx, window, bits = self._buffers(b, n)
        here = code.gather(1, pos)  # [B, N] the agents' tiles' flags
        code.scatter_(1, pos, here | AGENT_BIT)
        torch.add(pos[..., None], self._window, out=idx)  # [B, N, S*S] tiles in view
        torch.gather(code, 1, idx.view(b, -1), out=window)  # [B, N*S*S] uint8
        code.scatter_(1, pos, here)  # the map's flags as they were
        torch.bitwise_and(window.view(b, n, 1, s * s), self._bits, out=bits)
        out.copy_(bits.clamp_(max=1))
        return out

    def _native_fits(self, state: EconomyState, obs: Tensor, coin: Tensor, held: Tensor) -> bool:
        """Whether the native kernel can write this observation: kernels built and on, every
        tensor it reads contiguous on the CPU in the state's own dtypes (anything else, say a
        float64 default dtype or a GPU, takes the torch path)."""
        if obs.device.type != "cpu" or obs.dtype != torch.float32 or not native.enabled():
            return False
        floats = (coin, held, state.labour, state.build_skill, state.gather_bonus)
        return (
            all(x.dtype == torch.float32 and x.is_contiguous() for x in floats)
            and state.code.dtype == torch.uint8
            and state.code.is_contiguous()
            and state.pos.dtype == torch.int64
            and state.pos.is_contiguous()
            and state.order_price.dtype == torch.int64
            and state.order_price.is_contiguous()
            and self._place.dtype == torch.float32
        )

    def _buffers(self, b: int, n: int) -> tuple[Tensor, Tensor, Tensor]:
        """The map window's scratch tensors for B worlds of N agents, made once and reused:
        at large B a fresh tensor of every step's tile indices and channel bits costs more
        than filling one already made. Tensors made under ``torch.inference_mode`` may not be
        written outside it, so those are made again there."""
        scratch = self._scratch
        if (
            scratch is None
            or scratch[0].shape[:2] != (b, n)
            or (scratch[0].is_inference() and not torch.is_inference_mode_enabled())
        ):
            dev, cells = self._window.device, self.side * self.side
            self._scratch = (
                torch.empty(b, n, cells, dtype=torch.long, device=dev),  # tile indices
                torch.empty(b, n * cells, dtype=torch.uint8, device=dev),  # tiles' flags
                torch.empty(b, n, len(MAP_CHANNELS), cells, dtype=torch.uint8, device=dev),
            )
        return self._scratch

    def _clock(self, t: int) -> Tensor:
        """[2] float: step ``t``'s progress through the episode and through the tax period,
        made once per step number and kept (an episode has a few thousand at most)."""
        clock = self._clocks.get(t)
        if clock is None:
            c = self.config
            values = [t / c.episode_length, (t % self.tax_period) / self.tax_period]
            clock = self._clocks[t] = torch.tensor(values).to(self._place.device)
        return clock

    def __call__(
        self, state: EconomyState, t: int, coin: Tensor | None = None, held: Tensor | None = None
    ) -> Tensor:
        """[B, N, obs_dim] observation of every agent at step ``t`` of the episode.

        ``coin`` [B, N] and ``held`` [B, N, R] are the holdings with escrow included, where the
        caller has them already.
        """
        c = self.config
        b, n = state.pos.shape
        if held is None:
            held = state.stock + self.market.escrow_units(state)  # [B, N, R]
        if coin is None:
            coin = state.coin + self.market.escrow_coin(state)  # [B, N]
        obs = torch.empty(b, n, self.layout.size, device=state.pos.device)
        if self._native_fits(state, obs, coin, held):
            mech = self.pipeline.observation(b, n, obs.device)
            native.observe(
                obs,
                state.code,
                state.pos,
                self._window,
                coin,
                held,
                state.labour,
                state.build_skill,
                c.max_skill,
                state.gather_bonus,
                self._place,
                self._clock(t),
                state.order_price,
                c.max_price,
                mech.expand(b, n, -1).to(torch.float32).contiguous(),
            )
            return obs
        sl = self.layout.slices
        self.egocentric_map(state, obs[..., sl["map"]].view(b, n, len(MAP_CHANNELS), -1))
        # The numbers after the map are written into a small contiguous block and copied into
        # the observation once: each write into a column of the [B, N, O] observation touches
        # a cache line per agent, a pass over the whole buffer for a handful of numbers.
        tail = torch.empty(b, n, self.layout.size - self._tail_start, device=obs.device)
        rest = tail[..., : self._market_start]  # [B, N, 10]
        torch.div(coin, 100, out=rest[..., 0])
        torch.div(held, 10, out=rest[..., 1:3])
        torch.div(state.labour, 1000, out=rest[..., 3])
        torch.div(state.build_skill, c.max_skill, out=rest[..., 4])
        rest[..., 5] = state.gather_bonus
        rest[..., 6:8] = self._place[state.pos]  # row / H, column / W
        rest[..., 8:10] = self._clock(t)  # episode progress, progress through the tax period
        market = tail[..., self._market_start : self._market_stop]
        self.market.quotes(state, market.view(b, n, len(RESOURCES), QUOTES))
        if self.pipeline.obs_dim:
            tail[..., self._market_stop :] = self.pipeline.observation(b, n, obs.device)
        obs[..., self._tail_start :] = tail
        return obs
