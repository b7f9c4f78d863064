"""Scenario files: load and validate a TOML file into typed config, then build its pieces.

A scenario names the world and its parameters, the ordered mechanism pipeline, the population
(which policy each seat runs), and how to evaluate. Everything is checked before anything runs or
is written; a problem raises one :class:`~coopsim.schema.ConfigError` naming the file, the field
and what is allowed.

The building layer: the typed classes a file is read into are configuration
(:mod:`coopsim.config`); checking a file needs the registries of worlds, mechanisms and policies,
and building needs their classes, which is why both live here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import torch

from coopsim.agents.population import Population
from coopsim.agents.ppo import PPOLearner
from coopsim.agents.scripted import SCRIPTED
from coopsim.config import (
    LEARNERS,
    EvaluationConfig,
    GroupConfig,
    MechanismConfig,
    PlannerConfig,
    Scenario,
    TrainingConfig,
)
from coopsim.envs import WORLDS, World
from coopsim.schema import ConfigError, build, describe_range
from mechanisms import MECHANISMS, Mechanism, Pipeline

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCENARIO_DIR = Path(
    os.environ.get("COOPSIM_SCENARIOS", Path(__file__).resolve().parents[1] / "scenarios")
)
TOP_LEVEL_KEYS = (
    "name",
    "description",
    "world",
    "mechanisms",
    "population",
    "evaluation",
    "training",
    "planner",
)
# Every policy a population group may name: the scripted registry's, then the learners.
POLICIES: tuple[str, ...] = (*SCRIPTED, *LEARNERS)

# The typed config classes live in coopsim.config; they are named here too, where the loader
# and the builders that read them are.
__all__ = [
    "LEARNERS",
    "POLICIES",
    "SCENARIO_DIR",
    "ConfigError",
    "EvaluationConfig",
    "GroupConfig",
    "MechanismConfig",
    "Scenario",
    "check_planner_fits",
    "from_dict",
    "list_scenarios",
    "load",
    "make_pipeline",
    "make_population",
    "make_world",
    "resolve_device",
    "resolve_path",
]


def resolve_path(name_or_path: str | os.PathLike) -> Path:
    """A scenario name ('public_goods') or a path to a TOML file -> the file's path."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.exists():
            raise ConfigError(str(p), "(file)", "no such scenario file")
        return p
    candidate = SCENARIO_DIR / f"{p.name}.toml"
    if not candidate.exists():
        known = ", ".join(sorted(list_scenarios())) or "(none found)"
        raise ConfigError(
            str(name_or_path), "(scenario)", f"no such scenario; known scenarios: {known}"
        )
    return candidate


def list_scenarios() -> dict[str, Path]:
    """Scenario name -> file, for every TOML file in the scenarios folder."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.toml"))}


def load(name_or_path: str | os.PathLike) -> Scenario:
    """Read and validate a scenario file (or a name from ``scenarios/``)."""
    path = resolve_path(name_or_path)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(str(path), "(syntax)", f"not valid TOML: {err}") from None
    return from_dict(data, source=str(path), default_name=path.stem)


def from_dict(
    data: dict[str, Any], source: str | None = None, default_name: str = "scenario"
) -> Scenario:
    """Validate plain data (a parsed TOML file, or the app's form) into a :class:`Scenario`."""
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise ConfigError(
                source, key, f"unknown key; allowed top-level keys: {', '.join(TOP_LEVEL_KEYS)}"
            )
    name = data.get("name", default_name)
    description = data.get("description", "")
    for key, value in (("name", name), ("description", description)):
        if not isinstance(value, str):
            raise ConfigError(source, key, f"got {value!r}, expected a string")

    world_data = data.get("world")
    if not isinstance(world_data, dict):
        raise ConfigError(source, "world", "missing; expected a [world] table with a 'kind'")
    kind = world_data.get("kind")
    if not isinstance(kind, str) or kind not in WORLDS:  # a list or table is not hashable
        raise ConfigError(
            source, "world.kind", f"got {kind!r}, allowed: {', '.join(map(repr, WORLDS))}"
        )
    world = build(WORLDS[kind][0], world_data, source=source, prefix="world")

    mech_data = data.get("mechanisms", [])
    if not isinstance(mech_data, list):
        raise ConfigError(source, "mechanisms", "expected an array of tables ([[mechanisms]])")
    mechanisms = []
    for i, entry in enumerate(mech_data):
        where = f"mechanisms[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(source, where, f"got {entry!r}, expected a table")
        mkind = entry.get("kind")
        if not isinstance(mkind, str) or mkind not in MECHANISMS:
            raise ConfigError(
                source,
                f"{where}.kind",
                f"got {mkind!r}, allowed: {', '.join(map(repr, MECHANISMS))}",
            )
        cls = MECHANISMS[mkind]
        if cls.worlds is not None and kind not in cls.worlds:
            raise ConfigError(
                source,
                f"{where}.kind",
                f"{mkind!r} does not apply to a {kind!r} world (only {', '.join(cls.worlds)})",
            )
        rest = {k: v for k, v in entry.items() if k != "kind"}
        mechanisms.append(
            MechanismConfig(mkind, build(cls.Params, rest, source=source, prefix=where))
        )

    pop_data = data.get("population")
    if not isinstance(pop_data, list) or not pop_data:
        raise ConfigError(
            source,
            "population",
            "missing; expected [[population]] tables with 'policy' and 'count'",
        )
    population = []
    for i, entry in enumerate(pop_data):
        group = build(GroupConfig, entry, source=source, prefix=f"population[{i}]")
        if group.policy not in POLICIES:
            allowed = describe_range({"choices": POLICIES})
            raise ConfigError(
                source, f"population[{i}].policy", f"got {group.policy!r}, allowed: {allowed}"
            )
        if group.policy in LEARNERS:
            if group.params:
                raise ConfigError(
                    source,
                    f"population[{i}].params",
                    "learners take no parameters here; set hyperparameters in [training]",
                )
            population.append(group)
            continue
        policy_cls = SCRIPTED[group.policy]
        if policy_cls.Params is not type(None):
            group.params = build(
                policy_cls.Params, group.params, source=source, prefix=f"population[{i}].params"
            )
        elif group.params:
            raise ConfigError(
                source, f"population[{i}].params", f"policy {group.policy!r} takes no parameters"
            )
        population.append(group)
    seats = sum(g.count for g in population)
    if seats != world.num_agents:
        raise ConfigError(
            source,
            "population",
            f"counts add up to {seats} agents, but world.num_agents is {world.num_agents}",
        )
    if any(m.kind == "peer_punishment" for m in mechanisms) and kind != "public_goods":
        raise ConfigError(source, "mechanisms", "peer_punishment needs a public_goods world")

    evaluation = build(
        EvaluationConfig, data.get("evaluation", {}), source=source, prefix="evaluation"
    )
    planner = None
    if "planner" in data:
        planner = build(PlannerConfig, data["planner"], source=source, prefix="planner")
        if not any(m.kind == planner.mechanism for m in mechanisms):
            raise ConfigError(
                source,
                "planner.mechanism",
                f"got {planner.mechanism!r}, but the pipeline has no such mechanism "
                f"(has: {', '.join(m.kind for m in mechanisms) or 'none'})",
            )
    training = None
    if "training" in data or planner is not None or any(g.policy in LEARNERS for g in population):
        training = build(TrainingConfig, data.get("training", {}), source=source, prefix="training")
    if planner is not None:
        check_planner_fits(planner, kind, mechanisms, training, source)
    return Scenario(
        name, description, world, mechanisms, population, evaluation, source, training, planner
    )


def check_planner_fits(
    planner: PlannerConfig,
    world_kind: str,
    mechanisms: list[MechanismConfig],
    training: TrainingConfig,
    source: str | None,
) -> None:
    """Cross-field rules of a planner, caught at load rather than when phase 2 starts."""
    lever = next(m for m in mechanisms if m.kind == planner.mechanism)
    refusal = MECHANISMS[lever.kind].planner_refusal(lever.params)
    if refusal is not None:
        raise ConfigError(source, "planner.mechanism", refusal)
    lever_period = MECHANISMS[lever.kind].period_of(lever.params) or 1
    if planner.period % lever_period:
        raise ConfigError(
            source,
            "planner.period",
            f"got {planner.period}, must be a multiple of the {planner.mechanism} mechanism's "
            f"period ({lever_period}), or its rates would change mid-period",
        )
    if planner.group_size == 1:
        return
    if not WORLDS[world_kind][1].can_replicate():
        able = ", ".join(repr(k) for k, (_, cls) in WORLDS.items() if cls.can_replicate())
        raise ConfigError(
            source,
            "planner.group_size",
            f"got {planner.group_size}, but a {world_kind!r} world cannot be copied into "
            f"groups; use 1 here (worlds that can: {able})",
        )
    if training.num_worlds % planner.group_size:
        raise ConfigError(
            source,
            "planner.group_size",
            f"got {planner.group_size}, must divide training.num_worlds ({training.num_worlds})",
        )


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            None, "evaluation.device", "'cuda' was asked for but no CUDA device is available"
        )
    return torch.device(name)


def make_pipeline(scenario: Scenario, batch_size: int, device: torch.device) -> Pipeline:
    mechs: list[Mechanism] = [
        MECHANISMS[m.kind](m.params, scenario.num_agents, batch_size, device)
        for m in scenario.mechanisms
    ]
    return Pipeline(mechs)


def make_world(scenario: Scenario, batch_size: int, device: str | torch.device = "cpu") -> World:
    """The scenario's world with its mechanism pipeline, B copies on ``device``."""
    device = torch.device(device)
    world_cls = WORLDS[scenario.world.kind][1]
    return world_cls(
        scenario.world, make_pipeline(scenario, batch_size, device), batch_size, device
    )


def make_population(scenario: Scenario, world: World, seed: int = 0) -> Population:
    """Policies for every seat; learners start from fresh weights seeded by ``seed``."""
    groups, seat = [], 0
    learners = [g for g in scenario.population if g.policy in LEARNERS]
    for k, g in enumerate(scenario.population):
        if g.policy in LEARNERS:
            name = g.policy if len(learners) == 1 else f"{g.policy}_{k}"
            learner = PPOLearner(
                world.spec,
                g.count,
                scenario.training or TrainingConfig(),
                seed=seed * 7_919 + k,
                device=world.device,
                name=name,
            )
            groups.append((learner, list(range(seat, seat + g.count))))
            seat += g.count
            continue
        cls = SCRIPTED[g.policy]
        policy = cls(world.spec, g.params if cls.Params is not type(None) else None)
        groups.append((policy, list(range(seat, seat + g.count))))
        seat += g.count
    return Population(groups, world.spec.num_agents, len(world.spec.action_nvec))
