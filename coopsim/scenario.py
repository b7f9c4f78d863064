"""Scenario files: load and validate a TOML file into typed config.

A scenario names the world and its parameters, the ordered mechanism pipeline, the population
(which policy each seat runs), and how to evaluate. Everything is checked before anything runs or
is written; a problem raises one :class:`~coopsim.schema.ConfigError` naming the file, the field
and what is allowed.

Loading, apart from building: the typed classes a file is read into are configuration
(:mod:`coopsim.config`); checking a file needs the registries of worlds, mechanisms and policies,
which is why loading sits in the building layer, above them. What can be worked out of a loaded
scenario (the planner's controls, their baseline values) is worked out here once and kept on it
(:func:`resolved`). :mod:`coopsim.builder` turns a scenario into the pieces a run drives.
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path
from typing import Any

from coopsim.agents.scripted import SCRIPTED
from coopsim.config import (
    LEARNERS,
    PAIRED_OBJECTIVES,
    ControlTarget,
    EvaluationConfig,
    GroupConfig,
    MechanismConfig,
    PlannerConfig,
    Resolved,
    Scenario,
    TrainingConfig,
)
from coopsim.envs import WORLDS
from coopsim.schema import ConfigError, build, describe_range, read_config_toml, resolve_named_file
from mechanisms import MECHANISMS

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
    "baseline_controls",
    "check_planner_fits",
    "from_dict",
    "list_scenarios",
    "load",
    "resolve_controls",
    "resolve_path",
    "resolved",
]


def resolve_path(name_or_path: str | os.PathLike) -> Path:
    """A scenario name ('public_goods') or a path to a TOML file -> the file's path."""
    return resolve_named_file(name_or_path, SCENARIO_DIR, "scenario")


def list_scenarios() -> dict[str, Path]:
    """Scenario name -> file, for every TOML file in the scenarios folder."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.toml"))}


def load(name_or_path: str | os.PathLike) -> Scenario:
    """Read and validate a scenario file (or a name from ``scenarios/``)."""
    path = resolve_path(name_or_path)
    return from_dict(read_config_toml(path), source=str(path), default_name=path.stem)


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
        params = build(cls.Params, rest, source=source, prefix=where)
        refusal = cls.world_refusal(params, kind)
        if refusal is not None:
            raise ConfigError(source, f"{where}.{refusal[0]}", refusal[1])
        mechanisms.append(MechanismConfig(mkind, params))

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
        refusal = policy_cls.refusal(kind, [m.kind for m in mechanisms])
        if refusal is not None:
            raise ConfigError(source, f"population[{i}].policy", refusal)
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
    training = None
    if "training" in data or planner is not None or any(g.policy in LEARNERS for g in population):
        training = build(TrainingConfig, data.get("training", {}), source=source, prefix="training")
    scenario = Scenario(
        name, description, world, mechanisms, population, evaluation, source, training, planner
    )
    resolved(scenario)
    return scenario


def resolved(scenario: Scenario) -> Resolved:
    """The planner's controls and baseline values, worked out once and kept on the scenario.

    The loader calls this, so a loaded scenario holds them; a scenario whose planner or
    pipeline (or training worlds, which the planner's rules constrain) was edited in code since
    (the experiments and benchmarks change budgets and planner settings) is checked
    (:func:`check_planner_fits`) and resolved again, so what is kept never goes stale.
    """
    held = scenario.resolved
    training = scenario.training or TrainingConfig()
    if (
        held is not None
        and held.planner == scenario.planner
        and held.mechanisms == scenario.mechanisms
        and held.num_worlds == training.num_worlds
    ):
        return held
    planner, mechanisms, source = scenario.planner, scenario.mechanisms, scenario.source
    controls: list[ControlTarget] = []
    baseline = None
    if planner is not None:
        controls = resolve_controls(planner, mechanisms, source)
        if planner.objective in PAIRED_OBJECTIVES:
            baseline = baseline_controls(planner, mechanisms, source, controls)
        check_planner_fits(
            planner,
            scenario.world.kind,
            mechanisms,
            training,
            source,
            controls,
        )
    held = Resolved(
        copy.deepcopy(planner), copy.deepcopy(mechanisms), training.num_worlds, controls, baseline
    )
    scenario.resolved = held
    return held


def check_planner_fits(
    planner: PlannerConfig,
    world_kind: str,
    mechanisms: list[MechanismConfig],
    training: TrainingConfig,
    source: str | None,
    targets: list[ControlTarget] | None = None,
) -> None:
    """Cross-field rules of a planner, caught at load rather than when phase 2 starts.
    ``targets``: its controls as already resolved (resolved here without them)."""
    check_planner_populations(planner, world_kind, training, source)
    if targets is None:
        targets = resolve_controls(planner, mechanisms, source)
    for target in targets:
        lever = mechanisms[target.index]
        lever_period = MECHANISMS[lever.kind].period_of(lever.params) or 1
        if planner.period % lever_period:
            raise ConfigError(
                source,
                "planner.period",
                f"got {planner.period}, must be a multiple of the {lever.kind} mechanism's "
                f"period ({lever_period}), or its rates would change mid-period",
            )
    if planner.objective in PAIRED_OBJECTIVES:
        if training.num_worlds % 2:
            raise ConfigError(
                source,
                "training.num_worlds",
                f"got {training.num_worlds}; objective = {planner.objective!r} plays worlds in "
                "pairs (the planner's rules, the baseline's), so it must be even",
            )
        if planner.group_size != 1:
            raise ConfigError(
                source,
                "planner.group_size",
                f"got {planner.group_size}; objective = {planner.objective!r} already pays each "
                "decision against its paired baseline world, so use 1",
            )
        if not WORLDS[world_kind][1].can_replicate():
            raise ConfigError(
                source,
                "planner.objective",
                f"{planner.objective!r} needs paired copies of each world, and a "
                f"{world_kind!r} world cannot be copied",
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


def check_planner_populations(
    planner: PlannerConfig, world_kind: str, training: TrainingConfig, source: str | None
) -> None:
    """``planner.populations`` name population files of this world, and the worlds split
    into the scenario's own and the mixture's (:mod:`coopsim.stress.robust`)."""
    from coopsim.stress.populations import load_population

    for i, name in enumerate(planner.populations or []):
        try:
            found = load_population(name)
        except ConfigError as err:
            raise ConfigError(source, f"planner.populations[{i}]", str(err)) from None
        if found.world != world_kind:
            raise ConfigError(
                source,
                f"planner.populations[{i}]",
                f"{name!r} is a population of {found.world!r} worlds, this is a "
                f"{world_kind!r} world",
            )
    if planner.populations:
        unit = planner.group_size * (2 if planner.objective in PAIRED_OBJECTIVES else 1)
        own = round(training.num_worlds * (planner.own_share or 0.5) / unit) * unit
        if not unit <= own <= training.num_worlds - unit:
            raise ConfigError(
                source,
                "planner.own_share",
                f"leaves {own} of {training.num_worlds} training worlds to the scenario's own "
                f"population; both parts need at least {unit} (worlds come in groups of {unit})",
            )


def _controllable(mechanisms: list[MechanismConfig]) -> list[str]:
    """Every control a planner could name in this pipeline, for error messages."""
    counts = {m.kind: sum(x.kind == m.kind for x in mechanisms) for m in mechanisms}
    names = []
    for i, m in enumerate(mechanisms):
        cls = MECHANISMS[m.kind]
        if cls.planner_refusal(m.params) is not None:
            continue
        label = m.kind if counts[m.kind] == 1 else f"{m.kind}#{i}"
        names += [f"{label}.{p}" for p in cls.control_specs(m.params)]
    return names


def resolve_controls(
    planner: PlannerConfig, mechanisms: list[MechanismConfig], source: str | None = None
) -> list[ControlTarget]:
    """``planner.controls`` resolved against the pipeline, each with its grid's ends (the
    parameter's declared bounds unless ``planner.grid`` narrows them); one error naming
    ``planner.controls``, the bad entry and what is allowed otherwise."""
    allowed = ", ".join(_controllable(mechanisms)) or "none: no mechanism here has controls"

    def refuse(entry: str, why: str) -> ConfigError:
        return ConfigError(source, "planner.controls", f"{entry!r}: {why}; allowed: {allowed}")

    targets: list[ControlTarget] = []
    for entry in planner.controls:
        if not isinstance(entry, str):
            raise refuse(repr(entry), "expected a string '<kind>.<param>'")
        head, _, param_name = entry.partition(".")
        kind, _, index_text = head.partition("#")
        places = [i for i, m in enumerate(mechanisms) if m.kind == kind]
        if index_text:
            if not index_text.isdigit() or int(index_text) not in places:
                raise refuse(
                    entry,
                    f"mechanism {int(index_text) if index_text.isdigit() else index_text} of the pipeline is not a {kind!r}",
                )
            places = [int(index_text)]
        if not places:
            raise refuse(entry, f"the pipeline has no {kind!r} mechanism")
        if len(places) > 1:
            raise refuse(
                entry,
                f"the pipeline has {len(places)} {kind!r} mechanisms; name one as "
                f"'{kind}#<index>.<param>'",
            )
        index = places[0]
        cls, params = MECHANISMS[kind], mechanisms[index].params
        refusal = cls.planner_refusal(params)
        if refusal is not None:
            raise refuse(entry, refusal)
        specs = cls.control_specs(params)
        if param_name and param_name not in specs:
            raise refuse(entry, f"{param_name!r} is not a parameter a planner can set")
        for name in [param_name] if param_name else list(specs):
            full = f"{head}.{name}"
            spec = specs[name]
            low, high = spec.low, spec.high
            narrowed = planner.grid.get(full, planner.grid.get(entry))
            if narrowed is not None:
                if (
                    not isinstance(narrowed, list)
                    or len(narrowed) != 2
                    or not all(
                        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                        for v in narrowed
                    )
                    or not narrowed[0] < narrowed[1]
                    or (low is not None and narrowed[0] < low)
                    or (high is not None and narrowed[1] > high)
                ):
                    raise ConfigError(
                        source,
                        f"planner.grid.{full}",
                        f"got {narrowed!r}; expected [low, high] with low < high, within the "
                        f"parameter's bounds [{low}, {high}]",
                    )
                low, high = float(narrowed[0]), float(narrowed[1])
            if low is None or high is None:
                raise refuse(
                    entry,
                    f"{full!r} declares no {'lower' if low is None else 'upper'} bound; give "
                    f"its range in [planner.grid], e.g. '{full}' = [0, 4]",
                )
            if any(t.index == index and t.param == name for t in targets):
                raise refuse(entry, f"{full!r} is named twice")
            targets.append(ControlTarget(full, index, name, spec.width, float(low), float(high)))
    unused = [
        k for k in planner.grid if k not in {t.name for t in targets} and k not in planner.controls
    ]
    if unused:
        raise ConfigError(
            source,
            f"planner.grid.{unused[0]}",
            f"not one of planner.controls; controls: {', '.join(t.name for t in targets)}",
        )
    return targets


def baseline_controls(
    planner: PlannerConfig,
    mechanisms: list[MechanismConfig],
    source: str | None = None,
    targets: list[ControlTarget] | None = None,
) -> list[float]:
    """The values [K] of the planner's controls under ``planner.baseline``, a preset of the
    controlled mechanisms (every control must be set by it). ``targets``: the controls as
    already resolved (resolved here without them)."""
    if targets is None:
        targets = resolve_controls(planner, mechanisms, source)
    values: list[float] = []
    for target in targets:
        cls = MECHANISMS[mechanisms[target.index].kind]
        preset = cls.presets.get(planner.baseline)
        if preset is None or target.param not in preset:
            known = sorted({p for m in mechanisms for p in MECHANISMS[m.kind].presets})
            raise ConfigError(
                source,
                "planner.baseline",
                f"got {planner.baseline!r}, which sets no {target.name!r}; presets of the "
                f"controlled mechanisms: {', '.join(known) or 'none'}",
            )
        value = preset[target.param]
        values += list(value) if isinstance(value, (list, tuple)) else [float(value)] * target.width
    return values
