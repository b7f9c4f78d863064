"""The economy's settings: one validated dataclass, read from a scenario's ``[world]`` table."""

from __future__ import annotations

from dataclasses import dataclass

from coopsim.envs.economy import maps
from coopsim.schema import param


@dataclass
class EconomyConfig:
    kind: str = param("economy", help="World type", choices=("economy",))
    num_agents: int = param(4, help="Number of agents N", ge=1, le=64)
    height: int = param(25, help="Map rows (ignored for a map from text or file)", ge=3, le=512)
    width: int = param(25, help="Map columns (ignored for a map from text or file)", ge=3, le=512)
    layout: str = param(
        "quadrant",
        help="Map layout: procedural open quadrants, uniform scatter, a text map, or a map "
        "shipped with the package (map_name)",
        choices=("quadrant", "uniform", "file", "text", "builtin"),
    )
    map_name: str | None = param(
        None,
        help="Shipped map for layout = 'builtin': 'simple_wood_and_stone' is the AI Economist's "
        "25x25 quadrant layout (quadrant_25x25_20each_30clump)",
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
    # A house pays at most build_payment x max_skill = 1e9 coin; a few thousand houses per
    # episode keep coin, its square (inequality measures) and utility inside float32.
    build_payment: float = param(10.0, help="Coin for a house at build skill 1", gt=0, le=1e6)
    max_skill: float = param(
        3.0, help="Highest skill multiplier (build pays up to this x build_payment)", gt=1, le=1e3
    )
    pareto_alpha: float = param(
        4.0,
        help="Shape of the Pareto distribution skills are drawn from",
        ge=0.01,  # below, the inverse CDF overflows float64 before it is clipped
        le=1e3,
    )
    skills: str = param(
        "pareto",
        help="Build skills: 'pareto' drawn per agent (or build_skills as given); 'fixed_four' "
        "the AI Economist's four ranked payments (11.3, 13.3, 16.5, 22.2 coin at build_payment "
        "10) at its fixed corner start tiles, ranks shuffled over seats at every reset",
        choices=("pareto", "fixed_four"),
    )
    gather_bonus: str = param(
        "build_skill",
        help="Gather bonus probability: 'build_skill' (its position between 1 and max_skill, "
        "one skill drives both) or 'pareto' (drawn on its own per agent and reset as "
        "min(2, Lomax(3)) / 2, the AI Economist's)",
        choices=("build_skill", "pareto"),
    )
    gathering: str = param(
        "act",
        help="'act': agents gather with the gather act; 'auto': an agent standing on a present "
        "resource after its move takes it, whatever it did (the AI Economist; the gather act "
        "is then masked off)",
        choices=("act", "auto"),
    )
    build_skills: list[float] | None = param(
        None,
        help="Build skill multipliers per agent (1..max_skill); drawn when not given",
        ge=1,
        le=1e3,  # each element; at most max_skill, whose bound this is
    )
    gather_skills: list[float] | None = param(
        None,
        help="Gather bonus probability per agent (0..1); drawn with build skills when not given",
        ge=0,
        le=1,
    )
    start_positions: list[int] | None = param(
        None,
        help="Start tiles as a flat list y0, x0, y1, x1, ...; random when not given",
        ge=0,
        le=511,  # each element; a map is at most 512 tiles on a side
    )
    max_price: int = param(
        10,
        help="Highest bid/ask price (prices are integers 0..max)",
        ge=1,
        le=1000,  # the policy has one bid and one ask action per price
    )
    max_orders: int = param(
        5,
        help="Cap on open orders per agent and resource (see order_limit)",
        ge=1,
        le=1000,  # the order book holds this many slots per agent and resource
    )
    order_limit: str = param(
        "per_side",
        help="What max_orders counts: 'per_side' bids and asks apart, 'per_resource' both "
        "together (the AI Economist)",
        choices=("per_side", "per_resource"),
    )
    order_duration: int = param(
        50, help="Steps an order stays open before it expires", ge=1, le=100_000
    )
    same_step_price: str = param(
        "midpoint",
        help="Price of a trade between a bid and an ask posted in the same step: 'midpoint' of "
        "the two, or 'ask' (the AI Economist's); otherwise the older order's price",
        choices=("midpoint", "ask"),
    )
    eta: float = param(0.23, help="Isoelastic utility curvature of coin", ge=0, lt=1)
    # Labour per act and its cost up to 1e3 each: 100,000 steps of the dearest act cost 1e11
    # in utility, far inside float32 and its square.
    labour_cost: float = param(0.21, help="Utility cost per unit of labour", ge=0, le=1e3)
    move_labour: float = param(1.0, help="Labour of one move", ge=0, le=1e3)
    gather_labour: float = param(1.0, help="Labour of one gathering", ge=0, le=1e3)
    build_labour: float = param(10.0, help="Labour of building one house", ge=0, le=1e3)
    order_labour: float = param(0.05, help="Labour of posting one order", ge=0, le=1e3)
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
        if self.layout == "builtin" and self.map_name not in maps.BUILTIN:
            raise ValueError(
                f"layout = 'builtin' needs map_name, one of: {', '.join(maps.BUILTIN)} "
                f"(got {self.map_name!r})"
            )
        if self.map_name and self.layout != "builtin":
            raise ValueError("map_name is only read with layout = 'builtin'")
        for name in ("build_skills", "gather_skills"):
            v = getattr(self, name)
            if v is not None and len(v) != n:
                raise ValueError(f"{name} needs one value per agent ({n}), got {len(v)}")
        if self.build_skills is not None and max(self.build_skills) > self.max_skill:
            raise ValueError(f"build_skills must be <= max_skill = {self.max_skill}")
        if self.gather_bonus == "build_skill" and (
            (self.build_skills is None) != (self.gather_skills is None)
        ):
            raise ValueError("give both build_skills and gather_skills, or neither")
        if self.start_positions is not None and len(self.start_positions) != 2 * n:
            raise ValueError(f"start_positions needs 2 x num_agents = {2 * n} numbers")
        if self.skills == "fixed_four":
            given = [k for k in ("build_skills", "start_positions") if getattr(self, k) is not None]
            if given:
                raise ValueError(
                    f"skills = 'fixed_four' sets skills and start tiles itself; drop {given[0]}"
                )
        if self.gather_bonus == "pareto" and self.gather_skills is not None:
            raise ValueError("gather_bonus = 'pareto' draws the bonuses; drop gather_skills")
