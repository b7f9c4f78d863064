"""Population files: a named set of policies for a world's seats, as TOML, like a scenario.

A population is what a rule meets: a scripted mix (the zoo's free riders, conditional
cooperators, hump-shaped contributors, altruists; the commons' harvesters; the economy's
workers), the trained seats of a run (its learners, under its own rule or another), or a
mixture of these in proportions. Each world of a batch draws every seat from the members with
probability ``share`` (Melting Pot's background populations, drawn per episode)::

    name = "fgf2001"
    world = "public_goods"
    [[members]]
    policy = "conditional_cooperator"
    share = 0.5
    [[members]]
    run = "runs/public_goods_matching_planner-20260101-000000-s1"
    share = 0.5

Everything is checked on load; a problem is one :class:`~coopsim.schema.ConfigError` naming
the file, the field and what is allowed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from coopsim.agents.population import Population
from coopsim.agents.scripted import SCRIPTED
from coopsim.envs import WORLDS, World
from coopsim.schema import (
    ConfigError,
    build,
    describe_range,
    param,
    read_config_toml,
    resolve_named_file,
)

#: How a cross-rule population is named in a stress test: this, then the rule its learners
#: trained under.
TRAINED_UNDER = "trained under "

#: Where the shipped population files live (one folder beside ``scenarios/``).
POPULATION_DIR = Path(
    os.environ.get("COOPSIM_POPULATIONS", Path(__file__).resolve().parents[2] / "populations")
)
#: How far the shares of a file may sum from 1 (they are written as decimals).
SHARE_TOLERANCE = 1e-6


@dataclass
class MemberConfig:
    """One ``[[members]]`` table: a scripted policy or a run's trained seats, and its share."""

    share: float = param(help="Probability that a seat is this member's", gt=0, le=1)
    policy: str = param("", help="A scripted policy (see `coopsim list`'s zoo)")
    params: dict = param(default_factory=dict, help="Parameters of the scripted policy")
    run: str = param(
        "",
        help="A run directory whose trained seats play (its learners, seat by seat); "
        "relative paths are read from the current folder",
    )
    people: str = param(
        "",
        help="People who played here: a table's run directory (the app's Play page, `coopsim "
        "otree import`), or a folder of them; every seat plays the conditional-contribution "
        "schedule estimated from their human seats (coopsim.lab.people, when the seats are made)",
    )

    vote_alpha: float = param(
        0.0,
        help="Fehr-Schmidt envy: a Democratic-AI vote weighs what the others have above this "
        "seat by alpha / (N - 1) against its own payoff (0: it votes on its own payoff)",
        ge=0,
        le=10,
    )
    vote_beta: float = param(
        0.0,
        help="Fehr-Schmidt guilt: the vote weighs what this seat has above the others by "
        "beta / (N - 1) (Fehr and Schmidt 1999 take 0 <= beta < 1)",
        ge=0,
        lt=1,
    )

    @property
    def vote_aversion(self) -> tuple[float, float] | None:
        """(alpha, beta) its seats vote by, None where they vote on their own payoff."""
        if self.vote_alpha == 0 and self.vote_beta == 0:
            return None
        return (self.vote_alpha, self.vote_beta)

    def validate(self) -> None:
        if bool(self.policy) + bool(self.run) + bool(self.people) != 1:
            raise ValueError(
                "give exactly one of policy (a scripted policy), run (a run) or people "
                "(tables people played)"
            )
        if self.run and self.params:
            raise ValueError("params are for a scripted policy; a run's seats take none")


@dataclass
class PopulationConfig:
    """A population file, validated."""

    world: str = param(help="The world kind its members play", choices=tuple(WORLDS))
    members: list[MemberConfig] = param(help="Who may sit in a seat, each with its share")
    name: str = param("", help="Its name in tables (default: the file's stem)")
    description: str = param("", help="What it stands for, with its source")
    default_suite: bool = param(
        False, help="Part of the suite `coopsim stress` plays a rule of this world against"
    )
    source: str | None = None  # the file it was read from

    @property
    def runs(self) -> list[str]:  # trained runs only: a people member plays as a schedule
        return [m.run for m in self.members if m.run]


def list_populations() -> dict[str, Path]:
    """Population name -> file, for every TOML file in the shipped folder."""
    return {p.stem: p for p in sorted(POPULATION_DIR.glob("*.toml"))}


def default_suite(world: str) -> list[PopulationConfig]:
    """The shipped populations marked ``default_suite`` for a world kind, by name."""
    found = [load_population(path) for path in list_populations().values()]
    return [p for p in found if p.world == world and p.default_suite]


def resolve_population_path(name_or_path: str | os.PathLike) -> Path:
    """A shipped population's name ('fgf2001') or a path to a TOML file -> the file."""
    return resolve_named_file(name_or_path, POPULATION_DIR, "population")


def load_population(name_or_path: str | os.PathLike) -> PopulationConfig:
    """Read and validate a population file (or a shipped one's name)."""
    path = resolve_population_path(name_or_path)
    data = read_config_toml(path)
    return population_from_dict(data, source=str(path), default_name=path.stem)


def population_from_dict(
    data: dict, source: str | None = None, default_name: str = "population"
) -> PopulationConfig:
    """Validate plain data into a :class:`PopulationConfig` (scripted names and their params,
    run folders that exist, shares that sum to 1)."""
    if "source" in data:
        raise ConfigError(
            source,
            "source",
            "unknown key; allowed: world, members, name, description, default_suite",
        )
    config = build(PopulationConfig, data, source=source)
    config.source = source
    config.name = config.name or default_name
    if not config.members:
        raise ConfigError(source, "members", "empty; give at least one [[members]] table")
    for i, member in enumerate(config.members):
        where = f"members[{i}]"
        if member.policy:
            if member.policy not in SCRIPTED:
                allowed = describe_range({"choices": tuple(SCRIPTED)})
                raise ConfigError(
                    source, f"{where}.policy", f"got {member.policy!r}, allowed: {allowed}"
                )
            cls = SCRIPTED[member.policy]
            if cls.Params is not type(None):
                member.params = build(
                    cls.Params, member.params, source=source, prefix=f"{where}.params"
                )
            elif member.params:
                raise ConfigError(
                    source, f"{where}.params", f"policy {member.policy!r} takes no parameters"
                )
        elif member.run and not (Path(member.run) / "scenario.toml").is_file():
            raise ConfigError(
                source, f"{where}.run", f"{member.run!r} is not a run directory (no scenario.toml)"
            )
    probe = WORLDS[config.world][1](WORLDS[config.world][0](), batch_size=1)  # a default world
    for i, member in enumerate(config.members):
        if member.policy:
            scripted_seats(config, i, probe)
    total = sum(m.share for m in config.members)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ConfigError(source, "members", f"shares add up to {total:.6g}; they must add up to 1")
    return config


def scripted_seats(config: PopulationConfig, index: int, world: World) -> Population:
    """Member ``index`` (a scripted policy) in every seat of ``world``; refused, naming the
    file and member, if the policy reads what this world does not show."""
    member = config.members[index]
    cls = SCRIPTED[member.policy]
    n = world.spec.num_agents
    # a policy refuses a world it cannot read when made, or reads named observation fields
    # the world may not have when it acts: either way, this world is not one it plays
    try:
        policy = cls(world.spec, member.params if cls.Params is not type(None) else None)
        policy.bind(world, list(range(n)))
        population = Population([(policy, list(range(n)))], n, len(world.spec.action_nvec))
        population.act(world.reset(seed=0), world.gen, world.action_mask())
    except (KeyError, ValueError) as err:
        raise ConfigError(
            config.source,
            f"members[{index}].policy",
            f"{member.policy!r} does not play a {world.kind!r} world ({err})",
        ) from None
    return population
