"""The AI Economist's gather-trade-build economy (Zheng et al. 2020), batched on tensors.

B worlds of N agents live on an H x W grid (25 x 25 by default) of land, water walls and
sources of wood and stone (layouts in :mod:`coopsim.envs.economy.maps`). Each step an agent
takes one *act* and, at the same time, may post one order per resource on the market:

**Acts** (head ``act``, 7 choices): 0 rest; 1-4 move up/down/left/right; 5 gather the resource
on its own tile; 6 build a house on its own tile.

- *Moving* into water, a house of another agent or off the map fails. Conflicts are resolved
  without any sequential pass: a move into a tile that some agent occupied *at the start of the
  step* fails (even if that agent leaves), and when several agents move into the same free tile
  the one first in this step's priority order wins. Priority rotates every step: at step t agent
  i has rank ``(i - t) mod N`` (rank 0 first), so no seat is favoured over an episode.
- *Gathering* on a tile whose resource is present yields 1 unit, plus 1 bonus unit with
  probability ``gather_bonus`` (the agent's gather skill); the tile is then empty and, from
  the next step on, regrows at the start of each step with probability ``regen_prob``. With
  ``gathering = "auto"`` (the AI Economist's rule) every agent that stands on a present
  resource after moving gathers it, whatever its act, and the gather act is masked off.
- *Building* needs 1 wood and 1 stone and a tile with no house and no resource source; it
  pays ``build_payment x build_skill`` coin and leaves a house that only its owner may enter.

**Orders** (heads ``trade_wood``, ``trade_stone``, 2P + 1 choices with P = max_price + 1):
0 posts nothing; 1..P bid for one unit at price 0..max_price; P+1..2P ask at price 0..max_price.
A bid escrows its price in coin, an ask escrows one unit; an order that cannot be covered, or
whose agent already has ``max_orders`` open on that side (``order_limit = "per_side"``) or
for that resource, bids and asks together (``"per_resource"``), is refused. Orders expire after
``order_duration`` steps, returning their escrow.

**Matching** (a continuous double auction cleared once per step, all at once): for each
resource the open bids are sorted by (price high first, older first) and the asks by (price low
first, older first); the k-th bid meets the k-th ask while bid >= ask, which matches the most
units possible and leaves the book uncrossed. A matched pair trades at the price of the older
order (the one that was waiting on the book); when both arrived in the same step, at the
midpoint (``same_step_price = "midpoint"``) or the ask's price (``"ask"``). If both orders
of a pair belong to the same agent, both are cancelled and their
escrow returned (self-trade prevention, "cancel both").

**Money and utility.** ``gross`` is an agent's change of coin this step from building and
trade (what it earned minus what it paid for goods); ``income`` (taxable) is its coin *earned*,
house payments plus sale proceeds. Both go to the mechanism pipeline as one round: with the tax
mechanism's ``period = 100`` taxes are collected every 100 steps and a ``lump_sum`` after it
rebates them equally. Utility is isoelastic in coin minus the cost of labour,
``u = (coin^(1-eta) - 1) / (1-eta) - labour_cost * labour_scale * labour`` (coin counts escrow,
floored at 0), and each step's reward is the change of utility, as in the paper. With
``tax_accounting = "accrued"`` coin is counted net of the tax owed (and rebate due) on the
period's income so far: the utility at every collection, and so an episode's return, is the
same, but an agent feels a house's tax when it builds it, not at the period's end, which is
what a learner needs to tell which act the tax followed from.
``labour_scale`` is the warm-up factor a training curriculum anneals from 0 to 1.

Each rule is one component (:mod:`.movement`, :mod:`.gathering`, :mod:`.building`,
:mod:`.market`, :mod:`.money`) acting on the state record of :mod:`.state`;
:meth:`EconomyWorld.step` applies them in the order above. Everything is tensor operations
over [B, N, ...]: no loop over worlds, agents or orders.
"""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.envs.base import DrawableState, Step, World, WorldSpec
from coopsim.envs.economy import maps, money, native
from coopsim.envs.economy.actions import ACTS, BUILD, GATHER
from coopsim.envs.economy.building import build, can_build
from coopsim.envs.economy.config import EconomyConfig
from coopsim.envs.economy.gathering import Regrowth, can_gather, gather
from coopsim.envs.economy.market import Market
from coopsim.envs.economy.movement import Movement
from coopsim.envs.economy.observation import MAP_CHANNELS, Observer
from coopsim.envs.economy.picture import economy_image
from coopsim.envs.economy.state import (
    HOUSE_BIT,
    PRESENT,
    RESOURCES,
    SOURCE_BIT,
    STONE,
    STONE_BIT,
    WOOD,
    WOOD_BIT,
    EconomyState,
    Grid,
    new_state,
)
from coopsim.envs.observation import economy_bounds
from mechanisms.base import Pipeline


class EconomyWorld(World):
    """The gather-trade-build economy; see the module docstring for the rules."""

    kind = "economy"
    summary = "the AI Economist's gather-trade-build economy on a grid"
    info_keys = (
        "coin",
        "wood",
        "stone",
        "labour",
        "gross",
        "income",
        "net",
        "utility",
        "moved",
        "gathers",
        "gathered",
        "built",
        "orders",
        "bought",
        "sold",
        "build_income",
        "sale_income",
        "build_skill",
    )
    state: EconomyState  # every world's map, agents, holdings and order book

    def __init__(
        self,
        config: EconomyConfig,
        pipeline: Pipeline | None = None,
        batch_size: int = 1,
        device: str | torch.device = "cpu",
    ):
        self.config = c = config
        self.pipeline = pipeline or Pipeline([])
        if self.pipeline.needs_sanction_stage:
            raise ValueError("the economy has no sanction stage; peer punishment does not apply")
        self.batch_size = batch_size
        self.device = dev = torch.device(device)
        self.labour_scale = 1.0  # warm-up factor on the labour cost, set by a curriculum
        self.grid = Grid.of(c)
        self.height, self.width = self.grid.height, self.grid.width
        self.tax_period = self.pipeline.period or 100
        self.movement = Movement(self.grid, c.num_agents, dev)
        self.regrowth = Regrowth(c.regen_prob, self.grid.hp * self.grid.wp)
        self.market = Market(c, dev)
        self.observer = Observer(c, self.grid, self.market, self.pipeline, self.tax_period, dev)
        self.layout = self.observer.layout
        side = self.observer.side
        self.spec = WorldSpec(
            num_agents=c.num_agents,
            obs_dim=self.layout.size,
            action_nvec=(len(ACTS),) + (self.market.choices,) * len(RESOURCES),
            horizon=c.episode_length,
            obs_fields=self.layout.slices,
            head_names=("act",) + tuple(f"trade_{r}" for r in RESOURCES),
            map_shape=(len(MAP_CHANNELS), side, side),
        )
        self._agents = torch.arange(c.num_agents, device=dev)  # [N]
        self.auto_gather = c.gathering == "auto"  # standing on a resource gathers it
        self._everyone = torch.ones(batch_size, c.num_agents, dtype=torch.bool, device=dev)
        self._t = 0
        self.reset(seed=0)

    # -- state ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> Tensor:
        self.gen = self.make_generator(seed)
        self._t = 0
        self.state = new_state(self.config, self.grid, self.gen, self.batch_size, self.device)
        self.pipeline.reset()
        self.state.utility = self._utility()
        return self._observe()

    def replicate(self, source: Tensor) -> Tensor:
        source = source.to(self.device)
        if source.shape != (self.batch_size,):
            raise ValueError(f"replicate needs one source world per world, [{self.batch_size}]")
        self.state = self.state.take(source)
        self.pipeline.replicate(source)  # taxes owed and rates in force travel with the world
        return self._observe()

    def set_labour_scale(self, scale: float) -> None:
        """The labour-cost warm-up factor (0 = labour is free, 1 = full cost)."""
        if not 0 <= scale <= 1:
            raise ValueError(f"labour scale must be in [0, 1], got {scale}")
        self.labour_scale = float(scale)

    def action_mask(self) -> Tensor:
        """[B, N, 7 + 2 (2P + 1)] bool: the choices that can take effect now.

        Acts: rest always; a move unless into water or another agent's house; gather where the
        tile's resource is present; build with a wood and a stone on an empty tile with no
        house. Orders: see :meth:`Market.allowed`. Each head's mask holds for that head alone:
        an ask of the last wood in the step that builds with it is still refused.
        """
        s = self.state
        b, n = s.pos.shape
        kind_here = s.tiles.gather(1, s.pos)  # [B, N]
        code_here = s.code.gather(1, s.pos)  # [B, N]
        acts = torch.cat(
            [
                torch.ones(b, n, 1, dtype=torch.bool, device=self.device),
                self.movement.allowed(s),
                (can_gather(code_here) & (not self.auto_gather))[..., None],
                can_build(s, kind_here, code_here)[..., None],
            ],
            -1,
        )  # [B, N, 7]
        return torch.cat([acts, self.market.allowed(s).view(b, n, -1)], -1)

    def social_optimum(self) -> float:
        """An upper bound on total coin per episode: every agent at top skill completes a
        house every 3 steps (gather wood, gather stone, build) with no walking or trade."""
        c = self.config
        return c.num_agents * c.build_payment * c.max_skill * (c.episode_length // 3)

    # -- dynamics -------------------------------------------------------------------------
    def step(self, actions: Tensor) -> Step:
        c, s, t = self.config, self.state, self._t
        actions = actions.to(self.device).long()
        act = actions[..., 0]  # [B, N]
        orders = actions[..., 1:]  # [B, N, R]

        if self._native_first_half(act, orders):
            moved, gathered, units, built, revenue, posted = self._first_half(act, orders, t)
            trades = self.market.match(s)
        else:
            moved, gathered, units, built, revenue, posted, trades = self._steps(act, orders, t)

        # Money: earnings through the mechanisms; the reward is the change of utility.
        ctx, flows = money.settle(s, self.pipeline, revenue, trades, t, c.episode_length)
        s.labour += (
            moved * c.move_labour
            + gathered * c.gather_labour
            + built * c.build_labour
            + posted * c.order_labour
        )  # [B, N] labour spent this step
        coin, held = self.market.holdings(s)  # [B, N], [B, N, R] escrow included
        utility = money.utility(s, self.pipeline, c, self.labour_scale, coin)
        reward = utility - s.utility
        s.utility = utility

        info = {
            "coin": coin,
            "wood": held[..., WOOD],
            "stone": held[..., STONE],
            "labour": s.labour.clone(),
            "gross": ctx.gross,
            "income": ctx.income,
        }
        for label, flow in flows.items():
            info[f"transfer_{label}"] = flow.transfer
        info.update(
            net=ctx.net,
            utility=utility,
            moved=moved.float(),
            gathers=gathered.float(),  # successful gather acts (``gathered`` counts units)
            gathered=units,
            built=built.float(),
            orders=posted.float(),
            bought=trades.bought,
            sold=trades.sold,
            build_income=revenue,  # coin from houses: income split by source, for
            sale_income=trades.proceeds,  # specialisation (builders vs sellers of resources)
            build_skill=s.build_skill,
        )
        self._t += 1
        obs = self.observer(s, self._t, coin, held)  # holdings as counted above
        return Step(obs, reward, self._done(), info, round_end=True, flows=flows)

    def _steps(self, act: Tensor, orders: Tensor, t: int) -> tuple[Tensor, ...]:
        """The step's rules up to clearing, one component after another (the torch path, and
        the CPU where the first half cannot run as one kernel). Returns moved, gathered,
        units, built, revenue, orders placed [B, N] and the trades."""
        c, s = self.config, self.state
        # The step opens: old orders expire (their escrow is free again), sources regrow.
        self.market.expire(s)
        self.regrowth(s, self.gen)

        # Acts: moving, then gathering and building where each agent now stands.
        moved = self.movement.step(s, act, t)  # [B, N]

        # Gathering and building act on the tile under each agent; agents stand on distinct
        # tiles, so each tile has one writer and its flags are written back once.
        if self._native_acts(act):
            draw = torch.rand(act.shape, generator=self.gen, device=self.device)  # bonus draws
            codes = (GATHER, BUILD, maps.EMPTY, maps.STONE, PRESENT, HOUSE_BIT)
            gathered, units, built, revenue = native.act(
                s, act.contiguous(), self.auto_gather, draw, c.build_payment, codes
            )
        else:
            kind_here = s.tiles.gather(1, s.pos)  # [B, N] tile kind
            code_here = s.code.gather(1, s.pos)  # [B, N] uint8 flags
            wants_gather = self._everyone if self.auto_gather else act == GATHER
            gathered, units, code_here = gather(s, wants_gather, kind_here, code_here, self.gen)
            built, revenue, code_here = build(
                s, act == BUILD, kind_here, code_here, c.build_payment, self._agents
            )
            s.code.scatter_(1, s.pos, code_here)

        # Orders: posted with what the acts left to cover them, then the book clears.
        posted = self.market.post(s, orders)  # [B, N] orders accepted
        trades = self.market.match(s)
        return moved, gathered, units, built, revenue, posted, trades

    def _native_first_half(self, act: Tensor, orders: Tensor) -> bool:
        """Whether expiry, regrowth, moving, gathering, building and posting can run as one
        native pass over chunks of worlds: every component's own kernel could run, and
        regrowth draws candidate tiles (not a number per tile)."""
        s = self.state
        return (
            self.regrowth.candidates is not None
            and self._native_acts(act)
            and self.market._native(s)
            and self.regrowth._native(s)
            and orders.dtype == torch.int64
            and orders.shape == s.stock.shape == (*s.pos.shape, 2)
            and self.config.num_agents <= 64
            and s.tiles.dtype == torch.uint8
        )

    def _first_half(self, act: Tensor, orders: Tensor, t: int) -> tuple[Tensor, ...]:
        """:meth:`_steps` up to posting in one native pass, with the same random draws in the
        same order (regrowth's candidates, then the gathering bonus)."""
        s, m, mv = self.state, self.market, self.movement
        cand, accept = self.regrowth.draws(s, self.gen)
        draw = torch.rand(act.shape, generator=self.gen, device=self.device)  # bonus draws
        codes = (maps.WATER, maps.EMPTY, maps.STONE, GATHER, BUILD, SOURCE_BIT, PRESENT, HOUSE_BIT)
        return native.pre(
            s,
            (m._side, m._price, m._is_bid, m._is_ask),
            m.duration,
            m.per_resource,
            cand,
            accept,
            act.contiguous(),
            orders.contiguous(),
            (mv._delta, mv._is_move, mv._earlier[t % self.config.num_agents]),
            self.auto_gather,
            draw,
            self.config.build_payment,
            codes,
        )

    def _native_acts(self, act: Tensor) -> bool:
        """Whether gathering and building run in the native kernel: built and on, the CPU,
        one act per agent, and the state in its own dtypes, contiguous."""
        s = self.state
        return (
            self.device.type == "cpu"
            and native.enabled()
            and torch.get_default_dtype() == torch.float32  # the bonus draws' dtype
            and act.shape == s.pos.shape
            and act.dtype == s.pos.dtype == s.house_owner.dtype == torch.int64
            and s.stock.shape[-1] == 2
            and all(
                x.dtype == torch.float32 and x.is_contiguous()
                for x in (s.stock, s.gather_bonus, s.build_skill)
            )
            and all(x.is_contiguous() for x in (s.pos, s.tiles, s.code, s.house_owner))
        )

    def _utility(self) -> Tensor:
        return money.utility(self.state, self.pipeline, self.config, self.labour_scale)

    def _done(self) -> Tensor:
        return torch.full((self.batch_size,), self._t >= self.spec.horizon, device=self.device)

    # -- observation ----------------------------------------------------------------------
    def observe(self) -> Tensor:
        """The observation now, without stepping: [B, N, obs_dim].

        A planner sets new tax rates between steps; the trainer re-observes so agents act on
        the rates in force, not on last period's.
        """
        return self._observe()

    def _observe(self) -> Tensor:
        return self.observer(self.state, self._t)

    def observation_bounds(self) -> tuple[Tensor, Tensor]:
        return economy_bounds(self)  # derived from the rules in coopsim.envs.observation

    def render_rgb(self) -> Tensor:
        return economy_image(self)  # world 0's map

    def drawable_state(self) -> DrawableState:
        """World 0: water, resource sources (empty until they regrow), wood and stone
        present, houses, and the agents (always present, no heading)."""
        kinds = self.grid.unpad(self.state.tiles[:1])[0]  # [H, W]
        present = self.resources()[0]  # [R, H, W]
        water = kinds == maps.WATER
        n = self.config.num_agents
        return DrawableState(
            layers={
                "water": water.cpu(),
                "source": ((kinds != maps.EMPTY) & ~water).cpu(),
                "wood": present[WOOD].cpu(),
                "stone": present[STONE].cpu(),
                "house": (self.houses()[0] >= 0).cpu(),
            },
            positions=self.positions()[0].cpu(),
            present=torch.ones(n, dtype=torch.bool),
        )

    # -- views for people and tests -------------------------------------------------------
    def positions(self) -> Tensor:
        """[B, N, 2] (row, column) of every agent on the unpadded map."""
        pos, g = self.state.pos, self.grid
        return torch.stack([pos // g.wp - g.pad, pos % g.wp - g.pad], -1)

    def resources(self) -> Tensor:
        """[B, R, H, W] bool: which resources are present on each tile now."""
        code = self.state.code  # [B, T]
        return self.grid.unpad(torch.stack([(code & WOOD_BIT) > 0, (code & STONE_BIT) > 0], 1))

    def houses(self) -> Tensor:
        """[B, H, W] long: owner of the house on each tile, -1 where none."""
        return self.grid.unpad(self.state.house_owner)
