"""Everything one economy world is at one moment, declared once as a typed record.

Every field is a tensor whose leading dimension is the batch of B worlds, so copying a world
(``replicate``), starting a new one (``reset``) or saving one is a loop over this record's
fields and nothing has to be listed twice. What every world shares (the board's size, index
helpers, the config) lives outside it, in :class:`Grid` and the components.

The map is stored flat and padded with water ``view_radius`` tiles deep on every side, so a
move off the map is a move into water and a view window never leaves the array; a tile is an
index into ``Hp * Wp`` (``T`` below).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import Tensor

from coopsim.envs.economy import maps, skills
from coopsim.envs.economy.config import EconomyConfig

WOOD, STONE = 0, 1  # resource index r in [B, N, R] tensors
RESOURCES = ("wood", "stone")
BID, ASK = 0, 1  # order side s in [B, N, R, 2, K] tensors

# Per-tile flags in EconomyState.code; bits 0-4 are the first five map channels.
WATER_BIT, WOOD_BIT, STONE_BIT, SOURCE_BIT, HOUSE_BIT = 1, 2, 4, 8, 16
PRESENT = WOOD_BIT | STONE_BIT  # a resource is on the tile now


def tile_bits(kinds: Tensor) -> Tensor:
    """Tile kinds -> flags with every resource present (the state at the start)."""
    k = kinds.to(torch.uint8)
    bits = (k == maps.WATER) * WATER_BIT + (k == maps.WOOD) * (WOOD_BIT | SOURCE_BIT)
    return (bits + (k == maps.STONE) * (STONE_BIT | SOURCE_BIT)).to(torch.uint8)


@dataclass(frozen=True)
class Grid:
    """The board every world of a batch shares: its size, its padding, a fixed map if any."""

    height: int  # H, rows of the map
    width: int  # W, columns of the map
    pad: int  # water border on every side: the view radius, so windows stay inside
    fixed_map: Tensor | None = None  # [H, W] int8 tile kinds of a text/file layout

    @classmethod
    def of(cls, config: EconomyConfig) -> Grid:
        fixed = None
        if config.layout == "file":
            fixed = maps.read_map_file(config.map_file)
        elif config.layout == "text":
            fixed = maps.parse_map(config.map_text, source="map_text")
        elif config.layout == "builtin":
            fixed = maps.builtin_map(config.map_name)
        height, width = fixed.shape if fixed is not None else (config.height, config.width)
        return cls(height, width, config.view_radius, fixed)

    @property
    def hp(self) -> int:
        """Rows of the padded map."""
        return self.height + 2 * self.pad

    @property
    def wp(self) -> int:
        """Columns of the padded map: a step down is +wp in a flat tile index."""
        return self.width + 2 * self.pad

    def unpad(self, flat: Tensor) -> Tensor:
        """[B, ..., T] per padded tile -> [B, ..., H, W] on the map itself."""
        p = self.pad
        grid = flat.reshape(*flat.shape[:-1], self.hp, self.wp)
        return grid[..., p : p + self.height, p : p + self.width]


@dataclass
class EconomyState:
    """The state of B worlds: map, agents' places and holdings, the order book, skills."""

    tiles: Tensor  # [B, T] uint8 tile kind (maps.EMPTY/WATER/WOOD/STONE), fixed for an episode
    code: Tensor  # [B, T] uint8 flags (*_BIT): what agents see of each tile now
    house_owner: Tensor  # [B, T] long agent owning the house on the tile, -1 where none
    present_bit: Tensor  # [B, T] uint8 the PRESENT bit a tile's resource sets on regrowing
    pos: Tensor  # [B, N] long flat padded tile of each agent (distinct within a world)
    coin: Tensor  # [B, N] float liquid coin (escrow of open bids excluded)
    stock: Tensor  # [B, N, R] float liquid units (escrow of open asks excluded)
    labour: Tensor  # [B, N] float labour spent so far this episode
    order_price: Tensor  # [B, N, R, 2, K] long price per order slot and side, -1 = empty slot
    order_age: Tensor  # [B, N, R, 2, K] long steps each open order has rested on the book
    build_skill: Tensor  # [B, N] float multiplier of the house payment, 1..max_skill
    gather_bonus: Tensor  # [B, N] float chance of a second unit per gathering
    utility: Tensor  # [B, N] float utility after the last step (a step's reward is its change)

    def take(self, source: Tensor) -> EconomyState:
        """A new state whose world b is a copy of world ``source[b]``; ``source`` is [B]."""
        return EconomyState(**{f.name: getattr(self, f.name)[source] for f in fields(self)})


def new_state(
    config: EconomyConfig,
    grid: Grid,
    gen: torch.Generator,
    batch: int,
    device: torch.device,
) -> EconomyState:
    """B fresh worlds: map, start tiles and skills drawn from ``gen`` (in that order; with
    ``skills = "fixed_four"`` one draw of ranks gives both), then gather bonuses drawn on
    their own where ``gather_bonus = "pareto"``.

    ``utility`` starts at zero: the world sets it once the mechanisms are reset, since what
    agents owe them may count in it (``tax_accounting = "accrued"``).
    """
    n, r, k = config.num_agents, len(RESOURCES), config.max_orders
    padded = torch.full((batch, grid.hp, grid.wp), maps.WATER, dtype=torch.int8, device=device)
    p = grid.pad
    padded[:, p : p + grid.height, p : p + grid.width] = _make_map(config, grid, gen, batch, device)
    tiles = padded.reshape(batch, -1).to(torch.uint8)  # [B, T]
    if config.skills == "fixed_four":
        pos, build_skill = _fixed_four(config, grid, tiles, gen)
        gather_bonus = (build_skill - 1) / (config.max_skill - 1)
    else:
        pos = _spawn(config, grid, tiles, gen)
        build_skill, gather_bonus = _skills(config, gen, batch, device)
    if config.gather_bonus == "pareto":
        gather_bonus = skills.pareto_gather_bonus(gen, batch, n, device)
    return EconomyState(
        tiles=tiles,
        code=tile_bits(tiles),
        house_owner=torch.full(tiles.shape, -1, device=device),
        present_bit=tile_bits(tiles) & PRESENT,
        pos=pos,
        coin=torch.zeros(batch, n, device=device),
        stock=torch.zeros(batch, n, r, device=device),
        labour=torch.zeros(batch, n, device=device),
        order_price=torch.full((batch, n, r, 2, k), -1, device=device),
        order_age=torch.zeros(batch, n, r, 2, k, dtype=torch.long, device=device),
        build_skill=build_skill,
        gather_bonus=gather_bonus,
        utility=torch.zeros(batch, n, device=device),
    )


def _make_map(
    config: EconomyConfig, grid: Grid, gen: torch.Generator, batch: int, device: torch.device
) -> Tensor:
    """[B, H, W] int8 tile kinds: the fixed map, or a fresh layout per world."""
    if grid.fixed_map is not None:
        return grid.fixed_map.to(device).expand(batch, -1, -1)
    h, w, density = grid.height, grid.width, config.resource_density
    if config.layout == "quadrant":
        return maps.quadrant(batch, h, w, gen, device, density=density)
    return maps.uniform(batch, h, w, gen, device, density / 3)


def _spawn(config: EconomyConfig, grid: Grid, tiles: Tensor, gen: torch.Generator) -> Tensor:
    """[B, N] distinct start tiles per world: given, or drawn uniformly (top-N of noise)."""
    b, n = tiles.shape[0], config.num_agents
    if config.start_positions is not None:
        yx = torch.tensor(config.start_positions, device=tiles.device).reshape(n, 2) + grid.pad
        pos = (yx[:, 0] * grid.wp + yx[:, 1]).expand(b, -1).clone()
        bad = tiles.gather(1, pos) == maps.WATER
        if bool(bad.any()) or len(set(pos[0].tolist())) != n:
            raise ValueError("start_positions must be distinct tiles that are not water")
        return pos
    free = tiles == maps.EMPTY  # [B, T]
    if int(free.sum(-1).min()) < n:
        raise ValueError(f"the map has fewer than {n} empty tiles to start agents on")
    score = torch.rand(free.shape, generator=gen, device=tiles.device)
    score = torch.where(free, score, -1.0)
    return score.topk(n, dim=-1).indices


def _fixed_four(
    config: EconomyConfig, grid: Grid, tiles: Tensor, gen: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Start tiles [B, N] and build skills [B, N] of the fixed four skill ranks, the ranks
    shuffled over the seats of each world."""
    b, n, dev = tiles.shape[0], config.num_agents, tiles.device
    payment = skills.fixed_four_skills(n, config.max_skill, config.pareto_alpha)
    starts = skills.fixed_four_starts(n, grid.height, grid.width)
    yx = torch.tensor(starts, device=dev) + grid.pad  # [N, 2] per rank
    flat = yx[:, 0] * grid.wp + yx[:, 1]  # [N] padded tile per rank
    if bool((tiles[0, flat] == maps.WATER).any()) or len(set(flat.tolist())) != n:
        raise ValueError(
            f"skills = 'fixed_four' starts {n} agents at the map's corners, four to a row: "
            "they must be distinct tiles that are not water"
        )
    rank = skills.shuffled_ranks(gen, b, n, dev)  # [B, N]
    return flat[rank], torch.tensor(payment, device=dev)[rank]


def _skills(
    config: EconomyConfig, gen: torch.Generator, batch: int, device: torch.device
) -> tuple[Tensor, Tensor]:
    """Build skill multipliers in [1, max_skill] and gather bonus probabilities, [B, N] each.

    Drawn from a Pareto(alpha) distribution truncated at ``max_skill``: most agents are
    low-skilled, a few are highly skilled, as in the paper. One skill level drives both
    abilities; the bonus probability is its position between 1 and ``max_skill``.
    """
    c = config
    if c.build_skills is not None:
        build = torch.tensor(c.build_skills, device=device).expand(batch, -1).clone()
        bonus = torch.tensor(c.gather_skills, device=device).expand(batch, -1).clone()
        return build, bonus
    u = torch.rand(batch, c.num_agents, generator=gen, device=device).clamp(min=1e-9)
    skill = u.pow(-1.0 / c.pareto_alpha).clamp(max=c.max_skill)  # [B, N] Pareto, x_min 1
    return skill, (skill - 1) / (c.max_skill - 1)
