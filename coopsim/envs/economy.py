"""The AI Economist's gather-trade-build economy (Zheng et al. 2020), batched on tensors.

B worlds of N agents live on an H x W grid (25 x 25 by default) of land, water walls and
sources of wood and stone (layouts in :mod:`coopsim.envs.economy_maps`). Each step an agent
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
  the next step on, regrows at the start of each step with probability ``regen_prob``.
- *Building* needs 1 wood and 1 stone and a tile with no house and no resource source; it
  pays ``build_payment x build_skill`` coin and leaves a house that only its owner may enter.

**Orders** (heads ``trade_wood``, ``trade_stone``, 2P + 1 choices with P = max_price + 1):
0 posts nothing; 1..P bid for one unit at price 0..max_price; P+1..2P ask at price 0..max_price.
A bid escrows its price in coin, an ask escrows one unit; an order that cannot be covered, or
whose agent already has ``max_orders`` open on that side, is refused. Orders expire after
``order_duration`` steps, returning their escrow.

**Matching** (a continuous double auction cleared once per step, all at once): for each
resource the open bids are sorted by (price high first, older first) and the asks by (price low
first, older first); the k-th bid meets the k-th ask while bid >= ask, which matches the most
units possible and leaves the book uncrossed. A matched pair trades at the price of the older
order (the one that was waiting on the book); when both arrived in the same step, at the
midpoint. If both orders of a pair belong to the same agent, both are cancelled and their
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

Everything in :meth:`EconomyWorld.step` is tensor operations over [B, N, ...]: no loop over
worlds, agents or orders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from coopsim.envs import economy_maps as maps
from coopsim.envs.base import Step, World, WorldSpec
from coopsim.envs.observation import ObsLayout
from coopsim.envs.utility import isoelastic
from coopsim.schema import param
from mechanisms.base import Pipeline, RoundContext

WOOD, STONE = 0, 1  # resource index r in [B, N, R] tensors
RESOURCES = ("wood", "stone")
ACTS = ("rest", "up", "down", "left", "right", "gather", "build")
MAP_CHANNELS = ("water", "wood", "stone", "source", "house", "agent")
_MOVES = torch.tensor([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1], [0, 0], [0, 0]])  # act -> dy, dx


# Per-tile flags in EconomyWorld.code; bits 0-4 are the first five map channels.
_WATER_BIT, _WOOD_BIT, _STONE_BIT, _SOURCE, _HOUSE = 1, 2, 4, 8, 16
_PRESENT = _WOOD_BIT | _STONE_BIT


def _tile_bits(kinds: Tensor) -> Tensor:
    """Tile kinds -> flags with every resource present (the state at the start)."""
    k = kinds.to(torch.uint8)
    bits = (k == maps.WATER) * _WATER_BIT + (k == maps.WOOD) * (_WOOD_BIT | _SOURCE)
    return (bits + (k == maps.STONE) * (_STONE_BIT | _SOURCE)).to(torch.uint8)


@dataclass
class EconomyConfig:
    kind: str = param("economy", help="World type", choices=("economy",))
    num_agents: int = param(4, help="Number of agents N", ge=1, le=64)
    height: int = param(25, help="Map rows (ignored for a map from text or file)", ge=3, le=512)
    width: int = param(25, help="Map columns (ignored for a map from text or file)", ge=3, le=512)
    layout: str = param(
        "quadrant",
        help="Map layout: procedural open quadrants, uniform scatter, or a text map",
        choices=("quadrant", "uniform", "file", "text"),
    )
    map_file: str | None = param(
        None, help="Text map for layout = 'file' (legend: W water, w wood, s stone, . empty)"
    )
    map_text: str | None = param(None, help="Text map inline, for layout = 'text'")
    resource_density: float = param(
        0.45, help="Share of tiles that are resource sources in dense regions", ge=0, le=1
    )
    episode_length: int = param(1000, help="Steps per episode", ge=1, le=100_000)
    view_radius: int = param(
        5, help="Egocentric map window radius r (the window is 2r+1 square)", ge=1, le=32
    )
    regen_prob: float = param(
        0.01, help="Chance per step that an empty source tile regrows its resource", gt=0, le=1
    )
    build_payment: float = param(10.0, help="Coin for a house at build skill 1", gt=0)
    max_skill: float = param(
        3.0, help="Highest skill multiplier (build pays up to this x build_payment)", gt=1
    )
    pareto_alpha: float = param(
        4.0, help="Shape of the Pareto distribution skills are drawn from", gt=0
    )
    build_skills: list[float] | None = param(
        None, help="Build skill multipliers per agent (1..max_skill); drawn when not given", ge=1
    )
    gather_skills: list[float] | None = param(
        None,
        help="Gather bonus probability per agent (0..1); drawn with build skills when not given",
        ge=0,
        le=1,
    )
    start_positions: list[int] | None = param(
        None, help="Start tiles as a flat list y0, x0, y1, x1, ...; random when not given", ge=0
    )
    max_price: int = param(10, help="Highest bid/ask price (prices are integers 0..max)", ge=1)
    max_orders: int = param(5, help="Cap on open orders per agent, resource and side", ge=1)
    order_duration: int = param(50, help="Steps an order stays open before it expires", ge=1)
    eta: float = param(0.23, help="Isoelastic utility curvature of coin", ge=0, lt=1)
    labour_cost: float = param(0.21, help="Utility cost per unit of labour", ge=0)
    move_labour: float = param(1.0, help="Labour of one move", ge=0)
    gather_labour: float = param(1.0, help="Labour of one gathering", ge=0)
    build_labour: float = param(10.0, help="Labour of building one house", ge=0)
    order_labour: float = param(0.05, help="Labour of posting one order", ge=0)
    tax_accounting: str = param(
        "collected",
        help="When utility feels taxes and rebates: 'collected' (the paper: coin held, so a "
        "period's tax lands at its end) or 'accrued' (coin net of what is owed on income so "
        "far, so a house's tax is felt when it is built; same utility at each collection)",
        choices=("collected", "accrued"),
    )

    def validate(self) -> None:
        n = self.num_agents
        if self.layout == "file" and not self.map_file:
            raise ValueError("layout = 'file' needs map_file")
        if self.layout == "text" and not self.map_text:
            raise ValueError("layout = 'text' needs map_text")
        if self.layout == "file":
            maps.read_map_file(self.map_file)
        if self.layout == "text":
            maps.parse_map(self.map_text, source="map_text")
        for name in ("build_skills", "gather_skills"):
            v = getattr(self, name)
            if v is not None and len(v) != n:
                raise ValueError(f"{name} needs one value per agent ({n}), got {len(v)}")
        if self.build_skills is not None and max(self.build_skills) > self.max_skill:
            raise ValueError(f"build_skills must be <= max_skill = {self.max_skill}")
        if (self.build_skills is None) != (self.gather_skills is None):
            raise ValueError("give both build_skills and gather_skills, or neither")
        if self.start_positions is not None and len(self.start_positions) != 2 * n:
            raise ValueError(f"start_positions needs 2 x num_agents = {2 * n} numbers")


class EconomyWorld(World):
    """The gather-trade-build economy; see the module docstring for the rules."""

    kind = "economy"

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
        self.device = torch.device(device)
        self.labour_scale = 1.0  # warm-up factor on the labour cost, set by a curriculum
        n, dev = c.num_agents, self.device
        self._fixed_map: Tensor | None = None  # [H, W] for text/file layouts
        if c.layout == "file":
            self._fixed_map = maps.read_map_file(c.map_file)
        elif c.layout == "text":
            self._fixed_map = maps.parse_map(c.map_text, source="map_text")
        if self._fixed_map is not None:
            self.height, self.width = self._fixed_map.shape
        else:
            self.height, self.width = c.height, c.width
        self.pad = c.view_radius  # the map is stored padded with water on every side
        self.hp, self.wp = self.height + 2 * self.pad, self.width + 2 * self.pad
        self.levels = c.max_price + 1  # P: price levels 0..max_price
        self.tax_period = self.pipeline.period or 100
        side = 2 * c.view_radius + 1
        self.view = side
        self.layout = ObsLayout(
            [
                ("map", len(MAP_CHANNELS) * side * side),
                ("inventory", 3),  # coin / 100, wood / 10, stone / 10 (escrow included)
                ("labour", 1),  # labour so far / 1000
                ("skills", 2),  # build skill / max_skill, gather bonus probability
                ("position", 2),  # row / H, column / W
                ("time", 2),  # episode progress, progress through the tax period
                ("market", 6 * len(RESOURCES)),
                ("mechanisms", self.pipeline.obs_dim),
            ]
        )
        self.spec = WorldSpec(
            num_agents=n,
            obs_dim=self.layout.size,
            action_nvec=(len(ACTS),) + (2 * self.levels + 1,) * len(RESOURCES),
            horizon=c.episode_length,
            obs_fields=self.layout.slices,
            head_names=("act",) + tuple(f"trade_{r}" for r in RESOURCES),
            map_shape=(len(MAP_CHANNELS), side, side),
        )
        # Constant index helpers.
        self._moves = _MOVES.to(dev)  # [7, 2]
        self._move_offsets = (_MOVES[1:5, 0] * self.wp + _MOVES[1:5, 1]).to(dev)  # [4] flat
        self._prices = torch.arange(self.levels, device=dev)  # [P] bid/ask prices
        self._bidx = torch.arange(batch_size, device=dev)[:, None]  # [B, 1]
        self._agents = torch.arange(n, device=dev)  # [N]
        self._bits = (1 << torch.arange(5, device=dev, dtype=torch.uint8))[:, None]  # [5, 1]
        tiles = self.hp * self.wp
        self._regrow_k: int | None = None  # candidates per world per step (None: every tile)
        if c.regen_prob < 1:
            need = math.log1p(-c.regen_prob) / math.log1p(-1 / tiles)  # K at acceptance 1
            if need <= tiles / 8:
                self._regrow_k = max(4, math.ceil(2 * need))
                self._regrow_accept = tiles * -math.expm1(
                    math.log1p(-c.regen_prob) / self._regrow_k
                )
        w = torch.arange(side, device=dev) - c.view_radius
        self._window = (w[:, None] * self.wp + w[None, :]).reshape(-1)  # [S*S] flat offsets
        self._eye = torch.eye(n, dtype=torch.bool, device=dev)  # [N, N]
        self._t = 0
        self.reset(seed=0)

    # -- state ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> Tensor:
        c, b, n, dev = self.config, self.batch_size, self.config.num_agents, self.device
        self.gen = self.make_generator(seed)
        self._t = 0
        kinds = self._make_map()  # [B, H, W] int8
        p = self.pad
        padded = torch.full((b, self.hp, self.wp), maps.WATER, dtype=torch.int8, device=dev)
        padded[:, p : p + self.height, p : p + self.width] = kinds
        self.tiles = padded.reshape(b, -1).to(torch.uint8)  # [B, Hp*Wp] tile kind (static)
        # Bit flags per tile, what agents see: the window is one gather of this grid.
        self.code = _tile_bits(self.tiles)  # [B, Hp*Wp] uint8, resources present at the start
        self.house_owner = torch.full(self.tiles.shape, -1, device=dev)  # [B, Hp*Wp] long
        # the presence bit each tile's resource sets when it regrows (0 for non-sources)
        self._present_bit = _tile_bits(self.tiles) & _PRESENT  # [B, Hp*Wp] uint8
        self.pos = self._spawn()  # [B, N] flat padded tile index of each agent
        self.coin = torch.zeros(b, n, device=dev)  # [B, N] liquid coin (escrow excluded)
        self.stock = torch.zeros(b, n, len(RESOURCES), device=dev)  # [B, N, R] liquid units
        self.labour = torch.zeros(b, n, device=dev)  # [B, N] labour so far this episode
        k = c.max_orders
        # order book: price (-1 = empty slot) and age, per agent, resource, side (0 bid, 1 ask)
        self.order_price = torch.full((b, n, len(RESOURCES), 2, k), -1, device=dev)  # long
        self.order_age = torch.zeros(b, n, len(RESOURCES), 2, k, dtype=torch.long, device=dev)
        self.build_skill, self.gather_bonus = self._skills()  # [B, N] each
        self.pipeline.reset()
        self.utility = self._utility()  # [B, N]
        return self._observe()

    #: Everything that differs between worlds; constants and index helpers are shared.
    _WORLD_STATE = ("tiles", "code", "house_owner", "_present_bit", "pos", "coin", "stock",
                    "labour", "order_price", "order_age", "build_skill", "gather_bonus",
                    "utility")  # fmt: skip

    def replicate(self, source: Tensor) -> Tensor:
        source = source.to(self.device)
        if source.shape != (self.batch_size,):
            raise ValueError(f"replicate needs one source world per world, [{self.batch_size}]")
        for name in self._WORLD_STATE:
            setattr(self, name, getattr(self, name)[source].clone())
        self.pipeline.replicate(source)  # taxes owed and rates in force travel with the world
        return self._observe()

    def _make_map(self) -> Tensor:
        c, b, dev = self.config, self.batch_size, self.device
        if self._fixed_map is not None:
            return self._fixed_map.to(dev).expand(b, -1, -1)
        if c.layout == "quadrant":
            return maps.quadrant(
                b, self.height, self.width, self.gen, dev, density=c.resource_density
            )
        return maps.uniform(b, self.height, self.width, self.gen, dev, c.resource_density / 3)

    def _spawn(self) -> Tensor:
        """Distinct empty start tiles per world: given, or drawn uniformly (top-N of noise)."""
        c, b, n = self.config, self.batch_size, self.config.num_agents
        if c.start_positions is not None:
            yx = torch.tensor(c.start_positions, device=self.device).reshape(n, 2) + self.pad
            pos = (yx[:, 0] * self.wp + yx[:, 1]).expand(b, -1).clone()
            bad = self.tiles.gather(1, pos) == maps.WATER
            if bool(bad.any()) or len(set(pos[0].tolist())) != n:
                raise ValueError("start_positions must be distinct tiles that are not water")
            return pos
        free = self.tiles == maps.EMPTY  # [B, Hp*Wp]
        if int(free.sum(-1).min()) < n:
            raise ValueError(f"the map has fewer than {n} empty tiles to start agents on")
        score = torch.rand(free.shape, generator=self.gen, device=self.device)
        score = torch.where(free, score, -1.0)
        return score.topk(n, dim=-1).indices  # [B, N]

    def _skills(self) -> tuple[Tensor, Tensor]:
        """Build skill multipliers in [1, max_skill] and gather bonus probabilities, [B, N].

        Drawn from a Pareto(alpha) distribution truncated at ``max_skill``: most agents are
        low-skilled, a few are highly skilled, as in the paper. One skill level drives both
        abilities; the bonus probability is its position between 1 and ``max_skill``.
        """
        c, b, n, dev = self.config, self.batch_size, self.config.num_agents, self.device
        if c.build_skills is not None:
            build = torch.tensor(c.build_skills, device=dev).expand(b, -1).clone()
            bonus = torch.tensor(c.gather_skills, device=dev).expand(b, -1).clone()
            return build, bonus
        u = torch.rand(b, n, generator=self.gen, device=dev).clamp(min=1e-9)
        skill = u.pow(-1.0 / c.pareto_alpha).clamp(max=c.max_skill)  # [B, N] Pareto, x_min 1
        return skill, (skill - 1) / (c.max_skill - 1)

    def set_labour_scale(self, scale: float) -> None:
        """The labour-cost warm-up factor (0 = labour is free, 1 = full cost)."""
        if not 0 <= scale <= 1:
            raise ValueError(f"labour scale must be in [0, 1], got {scale}")
        self.labour_scale = float(scale)

    def action_mask(self) -> Tensor:
        """[B, N, 7 + 2 (2P + 1)] bool: the choices that can take effect now.

        Acts: rest always; a move unless into water or another agent's house (a tile another
        agent holds may free up, so it stays allowed); gather where the tile's resource is
        present; build with a wood and a stone on an empty tile with no house. Orders: none
        always; a bid at price p with liquid coin >= p and a free bid slot; an ask with a
        liquid unit and a free ask slot. Each head's mask holds for that head alone: an ask
        of the last wood in the step that builds with it is still refused.
        """
        b, n, p = self.batch_size, self.config.num_agents, self.levels
        target = self.pos[..., None] + self._move_offsets  # [B, N, 4]
        kind_t = self.tiles.gather(1, target.view(b, -1)).view(b, n, 4)
        owner_t = self.house_owner.gather(1, target.view(b, -1)).view(b, n, 4)
        own = (owner_t < 0) | (owner_t == self._agents[:, None])
        here = self.tiles.gather(1, self.pos)  # [B, N]
        code_here = self.code.gather(1, self.pos)
        can_build = (self.stock >= 1).all(-1) & ((code_here & _HOUSE) == 0) & (here == maps.EMPTY)
        acts = torch.cat(
            [
                torch.ones(b, n, 1, dtype=torch.bool, device=self.device),
                (kind_t != maps.WATER) & own,
                ((code_here & _PRESENT) > 0)[..., None],
                can_build[..., None],
            ],
            -1,
        )  # [B, N, 7]
        room = (self.order_price < 0).any(-1)  # [B, N, R, 2] a free slot per side
        bid = (self.coin[..., None, None] >= self._prices) & room[..., 0, None]  # [B, N, R, P]
        ask = ((self.stock >= 1) & room[..., 1])[..., None].expand(-1, -1, -1, p)
        none = torch.ones(b, n, len(RESOURCES), 1, dtype=torch.bool, device=self.device)
        orders = torch.cat([none, bid, ask], -1)  # [B, N, R, 2P + 1]
        return torch.cat([acts, orders.view(b, n, -1)], -1)

    def social_optimum(self) -> float:
        """An upper bound on total coin per episode: every agent at top skill completes a
        house every 3 steps (gather wood, gather stone, build) with no walking or trade."""
        c = self.config
        return c.num_agents * c.build_payment * c.max_skill * (c.episode_length // 3)

    # -- dynamics -------------------------------------------------------------------------
    def step(self, actions: Tensor) -> Step:
        c, b, n, dev = self.config, self.batch_size, self.config.num_agents, self.device
        t = self._t
        actions = actions.to(dev).long()
        act = actions[..., 0]  # [B, N]
        orders = actions[..., 1:]  # [B, N, R]
        labour = torch.zeros(b, n, device=dev)  # [B, N] labour spent this step

        self._expire_orders()
        self._regrow()

        # Moves: target tile, blocked by water (the padding too), other agents' houses and any
        # tile occupied at the start of the step; same-target conflicts go to the higher rank.
        moving = (act >= 1) & (act <= 4)  # [B, N]
        d = self._moves[act]  # [B, N, 2]
        target = self.pos + d[..., 0] * self.wp + d[..., 1]  # [B, N]
        kind_t = self.tiles.gather(1, target)  # [B, N] uint8
        owner_t = self.house_owner.gather(1, target)
        occupied = (target[:, :, None] == self.pos[:, None, :]).any(-1)  # [B, N]
        ok = moving & (kind_t != maps.WATER) & ((owner_t < 0) | (owner_t == self._agents))
        ok = ok & ~occupied
        rank = (self._agents - t) % n  # [N] 0 moves first
        same = (target[:, :, None] == target[:, None, :]) & ok[:, None, :]  # [B, N(i), N(j)]
        beaten = (same & (rank[None, :] < rank[:, None])[None]).any(-1)  # [B, N]
        moved = ok & ~beaten
        self.pos = torch.where(moved, target, self.pos)
        labour += moved * c.move_labour

        # Gathering: agents sit on distinct tiles, so each present resource has one claimant.
        here = self.tiles.gather(1, self.pos)  # [B, N] tile kind under each agent
        code_here = self.code.gather(1, self.pos)  # [B, N] uint8 flags
        gathered = (act == 5) & ((code_here & _PRESENT) > 0)  # [B, N]
        bonus = torch.rand(b, n, generator=self.gen, device=dev) < self.gather_bonus
        units = gathered * (1.0 + bonus)  # [B, N]
        res = (here == maps.STONE).long()  # [B, N] which resource the tile holds
        self.stock.scatter_add_(2, res[..., None], units[..., None])
        code_here = torch.where(gathered, code_here & ~_PRESENT, code_here)
        labour += gathered * c.gather_labour

        # Building.
        owner_here = self.house_owner.gather(1, self.pos)
        built = (
            (act == 6) & (self.stock >= 1).all(-1) & (owner_here < 0) & (here == maps.EMPTY)
        )  # [B, N]
        self.stock -= built[..., None].float()
        revenue = built * (c.build_payment * self.build_skill)  # [B, N]
        new_owner = torch.where(built, self._agents.expand(b, -1), owner_here)
        self.house_owner.scatter_(1, self.pos, new_owner)
        code_here = torch.where(built, code_here | _HOUSE, code_here)
        self.code.scatter_(1, self.pos, code_here)  # distinct tiles: one writer each
        labour += built * c.build_labour

        # Market: post new orders, then clear the book.
        posted = self._post_orders(orders)  # [B, N] orders accepted
        labour += posted * c.order_labour
        paid, proceeds, bought, sold = self._match()  # [B, N] each

        gross = revenue + proceeds - paid  # [B, N] change of coin from production and trade
        income = revenue + proceeds  # [B, N] coin earned (taxable)
        ctx = RoundContext(gross=gross, income=income, round=t, rounds=c.episode_length)
        flows = self.pipeline.apply(ctx)
        self.coin += revenue + (ctx.net - gross)  # trade already moved its coin in _match
        self.labour += labour
        utility = self._utility()
        reward = utility - self.utility
        self.utility = utility

        wealth = self.coin + self._escrow_coin()
        held = self.stock + self._escrow_units()  # [B, N, R] escrowed asks included
        info = {
            "coin": wealth,
            "wood": held[..., WOOD],
            "stone": held[..., STONE],
            "labour": self.labour.clone(),
            "gross": gross,
            "income": income,
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
            bought=bought,
            sold=sold,
            build_income=revenue,  # coin from houses: income split by source, for
            sale_income=proceeds,  # specialisation (builders vs sellers of resources)
            build_skill=self.build_skill,
        )
        self._t += 1
        return Step(self._observe(), reward, self._done(), info, round_end=True, flows=flows)

    def _regrow(self) -> None:
        """Each empty source tile regrows its resource with probability ``regen_prob``.

        Drawing a number per tile per step would touch the whole map of every world each step;
        instead K candidate tiles are drawn uniformly per world and each is accepted with
        probability a = T (1 - (1 - p)^(1/K)) (T tiles), which gives every tile a regrowth
        probability of exactly ``1 - (1 - a/T)^K = p`` per step, at a cost of K draws. Where p
        is too high for any K (a would exceed 1), every tile draws.
        """
        b, dev, p = self.batch_size, self.device, self.config.regen_prob
        if self._regrow_k is None:
            grow = torch.rand(self.code.shape, generator=self.gen, device=dev) < p
            empty = (self.code & (_SOURCE | _PRESENT)) == _SOURCE
            self.code |= (grow & empty).to(torch.uint8) * self._present_bit
            return
        k = self._regrow_k
        cand = torch.randint(
            self.code.shape[1], (b, k), generator=self.gen, device=dev
        )  # [B, K] tile indices
        accept = torch.rand(b, k, generator=self.gen, device=dev) < self._regrow_accept
        cur = self.code.gather(1, cand)
        empty = (cur & (_SOURCE | _PRESENT)) == _SOURCE
        new = torch.where(accept & empty, cur | self._present_bit.gather(1, cand), cur)
        # amax: if a tile is drawn twice, regrown (more bits) beats unchanged
        self.code.scatter_reduce_(1, cand, new, reduce="amax")

    def _expire_orders(self) -> None:
        """Age every open order; orders past ``order_duration`` close and return escrow."""
        open_ = self.order_price >= 0  # [B, N, R, 2, K]
        self.order_age += open_.long()
        expired = open_ & (self.order_age >= self.config.order_duration)
        refund = (self.order_price.clamp(min=0) * expired)[:, :, :, 0].sum((-1, -2))  # [B, N]
        self.coin += refund
        self.stock += expired[:, :, :, 1].sum(-1)
        self.order_price.masked_fill_(expired, -1)

    def _post_orders(self, orders: Tensor) -> Tensor:
        """Place each agent's new bid/ask per resource in its first free slot; [B, N] count.

        A bid needs liquid coin >= its price: resources are handled in order (wood, stone) with
        the coin left after the wood bid, so two bids can never overdraw the account.
        """
        p = self.levels
        has = orders > 0  # [B, N, R]
        side = ((orders - 1) // p).clamp(0, 1)  # [B, N, R] 0 bid, 1 ask
        price = (orders - 1) % p  # [B, N, R]
        slots = self.order_price.gather(
            3, side[..., None, None].expand(-1, -1, -1, 1, self.config.max_orders)
        ).squeeze(3)  # [B, N, R, K] prices on the chosen side
        free = slots < 0
        slot = free.long().argmax(-1)  # [B, N, R] first free slot
        room = free.any(-1)
        # Coverage: asks need a liquid unit; bids need coin, wood first then stone.
        ask_ok = self.stock >= 1  # [B, N, R]
        bid_wood = has[..., WOOD] & (side[..., WOOD] == 0) & room[..., WOOD]
        bid_wood = bid_wood & (self.coin >= price[..., WOOD])
        coin_left = self.coin - bid_wood * price[..., WOOD]
        bid_stone = has[..., STONE] & (side[..., STONE] == 0) & room[..., STONE]
        bid_stone = bid_stone & (coin_left >= price[..., STONE])
        bid_ok = torch.stack([bid_wood, bid_stone], -1)  # [B, N, R]
        accept = has & room & torch.where(side == 0, bid_ok, ask_ok)  # [B, N, R]
        # Escrow.
        self.coin -= (accept & (side == 0)).mul(price).sum(-1)
        self.stock -= (accept & (side == 1)).float()
        # Write the orders into their slots (rejected ones write back what was there).
        flat_price = self.order_price.view(*self.order_price.shape[:3], -1)  # [B, N, R, 2K]
        flat_age = self.order_age.view(*self.order_age.shape[:3], -1)
        idx = (side * self.config.max_orders + slot)[..., None]  # [B, N, R, 1]
        old = flat_price.gather(3, idx).squeeze(-1)
        flat_price.scatter_(3, idx, torch.where(accept, price, old)[..., None])
        old_age = flat_age.gather(3, idx).squeeze(-1)
        flat_age.scatter_(3, idx, torch.where(accept, 0, old_age)[..., None])
        return accept.sum(-1)

    def _match(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Clear the book of every resource at once (rules in the module docstring).

        Returns coin paid for goods, coin received for goods, units bought and units sold,
        each [B, N] summed over resources. Coin and stock are settled here.
        """
        b, n, k = self.batch_size, self.config.num_agents, self.config.max_orders
        r = len(RESOURCES)
        big = 1 << 20
        price = self.order_price.permute(0, 2, 3, 1, 4).reshape(b, r, 2, n * k)  # [B, R, 2, NK]
        age = self.order_age.permute(0, 2, 3, 1, 4).reshape(b, r, 2, n * k)
        open_ = price >= 0
        # Sort keys (higher = served first): bids by price then age, asks by low price then age.
        bid_key = torch.where(open_[:, :, 0], price[:, :, 0] * big + age[:, :, 0], -1)
        ask_key = torch.where(
            open_[:, :, 1], (self.config.max_price - price[:, :, 1]) * big + age[:, :, 1], -1
        )
        bid_key, bid_idx = bid_key.sort(-1, descending=True)  # [B, R, NK]
        ask_key, ask_idx = ask_key.sort(-1, descending=True)
        bid_p = price[:, :, 0].gather(-1, bid_idx)
        ask_p = price[:, :, 1].gather(-1, ask_idx)
        bid_a = age[:, :, 0].gather(-1, bid_idx)
        ask_a = age[:, :, 1].gather(-1, ask_idx)
        cross = (bid_key >= 0) & (ask_key >= 0) & (bid_p >= ask_p)  # [B, R, NK] a prefix
        buyer = bid_idx // k  # [B, R, NK] agent of each sorted bid
        seller = ask_idx // k
        self_trade = buyer == seller
        trade = cross & ~self_trade
        cancel = cross & self_trade
        px = torch.where(
            bid_a > ask_a, bid_p, torch.where(ask_a > bid_a, ask_p, (bid_p + ask_p) / 2)
        ).float()  # [B, R, NK]
        tf = trade.float()
        bought = torch.zeros(b, r, n, device=self.device)
        sold = torch.zeros(b, r, n, device=self.device)
        paid = torch.zeros(b, r, n, device=self.device)
        proceeds = torch.zeros(b, r, n, device=self.device)
        refund = torch.zeros(b, r, n, device=self.device)
        back = torch.zeros(b, r, n, device=self.device)
        bought.scatter_add_(2, buyer, tf)
        sold.scatter_add_(2, seller, tf)
        paid.scatter_add_(2, buyer, tf * px)
        proceeds.scatter_add_(2, seller, tf * px)
        # Escrow released to the buyer: the bid price less what was paid, all of it if cancelled.
        refund.scatter_add_(2, buyer, tf * (bid_p - px) + cancel * bid_p)
        back.scatter_add_(2, seller, cancel.float())
        self.coin += (refund + proceeds).sum(1)
        self.stock += (bought + back).transpose(1, 2)
        # Close the matched orders.
        bid_closed = torch.zeros_like(cross).scatter_(-1, bid_idx, cross)  # [B, R, NK] unsorted
        ask_closed = torch.zeros_like(cross).scatter_(-1, ask_idx, cross)
        closed = torch.stack([bid_closed, ask_closed], 2).reshape(b, r, 2, n, k)
        self.order_price.masked_fill_(closed.permute(0, 3, 1, 2, 4), -1)
        return paid.sum(1), proceeds.sum(1), bought.sum(1), sold.sum(1)

    def _escrow_coin(self) -> Tensor:
        return self.order_price[:, :, :, 0].clamp(min=0).sum((-1, -2)).float()  # [B, N]

    def _escrow_units(self) -> Tensor:
        return (self.order_price[:, :, :, 1] >= 0).sum(-1).float()  # [B, N, R]

    def _utility(self) -> Tensor:
        c = self.config
        coin = self.coin + self._escrow_coin()
        if c.tax_accounting == "accrued":
            coin = coin + self.pipeline.accrued(self.batch_size, c.num_agents, self.device)
        iso = isoelastic(coin, c.eta)
        return iso - c.labour_cost * self.labour_scale * self.labour

    def _done(self) -> Tensor:
        return torch.full((self.batch_size,), self._t >= self.spec.horizon, device=self.device)

    # -- observation ----------------------------------------------------------------------
    def egocentric_map(self, out: Tensor | None = None) -> Tensor:
        """[B, N, C, S*S] window around each agent (channels: MAP_CHANNELS); off-map is water.

        Written into ``out`` when given (a view into the observation buffer), so the largest
        part of the observation is produced in one pass with no intermediate copies.
        """
        b, n, s = self.batch_size, self.config.num_agents, self.view
        if out is None:
            out = torch.empty(b, n, len(MAP_CHANNELS), s * s, device=self.device)
        idx = (self.pos[..., None] + self._window).reshape(b, -1)  # [B, N*S*S]
        code = self.code.gather(1, idx).view(b, n, 1, s * s)  # [B, N, 1, S*S] uint8
        out[:, :, :5] = (code & self._bits).clamp_(max=1)  # bits 0-4 are channels 0-4
        # Agents in view (self included, always at the centre): relative offsets in the window.
        agent = out[:, :, 5]
        agent.zero_()
        wp, r = self.wp, self.config.view_radius
        dy = self.pos[:, None, :] // wp - self.pos[:, :, None] // wp  # [B, N(viewer), N]
        dx = self.pos[:, None, :] % wp - self.pos[:, :, None] % wp
        seen = (dy.abs() <= r) & (dx.abs() <= r)
        cell = ((dy + r) * s + dx + r).clamp(0, s * s - 1)
        agent.scatter_add_(2, cell, seen.float())  # add: unseen agents add 0 anywhere
        return out

    def market_state(self) -> Tensor:
        """[B, N, R, 6]: best bid and best ask of the *other* agents (/max_price), whether
        there is one, and the agent's own open bids and asks (/max_orders)."""
        c = self.config
        price = self.order_price.float()  # [B, N, R, 2, K]
        best_bid = price[:, :, :, 0].amax(-1)  # [B, N, R] own best bid
        ask = price[:, :, :, 1]
        best_ask = torch.where(ask >= 0, ask, c.max_price + 1.0).amin(-1)  # [B, N, R]
        eye = self._eye[None, None]  # [1, 1, N, N] viewer x other
        bid_t = best_bid.transpose(1, 2)[:, :, None, :]  # [B, R, 1, N]
        ask_t = best_ask.transpose(1, 2)[:, :, None, :]
        other_bid = torch.where(eye, -1.0, bid_t).amax(-1).transpose(1, 2)  # [B, N, R]
        other_ask = torch.where(eye, c.max_price + 1.0, ask_t).amin(-1).transpose(1, 2)
        has_bid = other_bid >= 0
        has_ask = other_ask <= c.max_price
        own = (price >= 0).sum(-1).float() / c.max_orders  # [B, N, R, 2]
        return torch.stack(
            [
                other_bid.clamp(min=0) / c.max_price,
                other_ask.clamp(max=c.max_price) / c.max_price,
                has_bid.float(),
                has_ask.float(),
                own[..., 0],
                own[..., 1],
            ],
            -1,
        )

    def observe(self) -> Tensor:
        """The observation now, without stepping: [B, N, obs_dim].

        A planner sets new tax rates between steps; the trainer re-observes so agents act on
        the rates in force, not on last period's.
        """
        return self._observe()

    def _observe(self) -> Tensor:
        c, b, n = self.config, self.batch_size, self.config.num_agents
        stock = self.stock + self._escrow_units()
        coin = self.coin + self._escrow_coin()
        inventory = torch.stack([coin / 100, stock[..., WOOD] / 10, stock[..., STONE] / 10], -1)
        y = (self.pos // self.wp - self.pad).float() / self.height
        x = (self.pos % self.wp - self.pad).float() / self.width
        t, sl = self._t, self.layout.slices
        obs = torch.empty(b, n, self.layout.size, device=self.device)
        self.egocentric_map(obs[..., sl["map"]].view(b, n, len(MAP_CHANNELS), -1))
        obs[..., sl["inventory"]] = inventory
        obs[..., sl["labour"]] = self.labour[..., None] / 1000
        obs[..., sl["skills"]] = torch.stack(
            [self.build_skill / c.max_skill, self.gather_bonus], -1
        )
        obs[..., sl["position"]] = torch.stack([y, x], -1)
        obs[..., sl["time"].start] = t / c.episode_length
        obs[..., sl["time"].start + 1] = (t % self.tax_period) / self.tax_period
        obs[..., sl["market"]] = self.market_state().reshape(b, n, -1)
        if self.pipeline.obs_dim:
            obs[..., sl["mechanisms"]] = self.pipeline.observation(b, n, self.device)
        return obs

    # -- views for people and tests -------------------------------------------------------
    def positions(self) -> Tensor:
        """[B, N, 2] (row, column) of every agent on the unpadded map."""
        return torch.stack([self.pos // self.wp - self.pad, self.pos % self.wp - self.pad], -1)

    def resources(self) -> Tensor:
        """[B, R, H, W] bool: which resources are present on each tile now."""
        p, b = self.pad, self.batch_size
        code = self.code.reshape(b, self.hp, self.wp)
        out = torch.stack([(code & _WOOD_BIT) > 0, (code & _STONE_BIT) > 0], 1)
        return out[:, :, p : p + self.height, p : p + self.width]

    def houses(self) -> Tensor:
        """[B, H, W] long: owner of the house on each tile, -1 where none."""
        p, b = self.pad, self.batch_size
        grid = self.house_owner.reshape(b, self.hp, self.wp)
        return grid[:, p : p + self.height, p : p + self.width]
