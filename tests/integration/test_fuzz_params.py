"""Property-based fuzzing of every field a scenario can set.

For every registered world and mechanism, and the training, planner and evaluation sections,
Hypothesis draws values for one or two of its fields: in range (the bounds themselves
included, where overflow would show), NaN and infinities, huge, tiny and negative numbers,
wrong types and lists of the wrong length. Each scenario must then either load and run a
short episode whose ``summary.json`` holds only finite metrics, or be refused with one
:class:`~coopsim.schema.ConfigError` whose message names a drawn field. Anything else (a
traceback from deep inside a world, a NaN published as a result) fails.

Fields that only say how much work a run does (rounds, episodes, iterations, worlds) are
drawn small when in range, so every accepted example runs in well under a second; their
huge values are still drawn and must be refused. The example budget is fixed and the search
derandomized, so the suite runs the same examples every time, in well under a minute.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import sys
import typing
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from coopsim import scenario as sc  # noqa: E402
from coopsim.config import EvaluationConfig, PlannerConfig, TrainingConfig  # noqa: E402
from coopsim.runner import run_scenario  # noqa: E402
from coopsim.schema import ConfigError  # noqa: E402

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Fields whose in-range values only scale the work a run does: drawn near their lower bound.
COST = {
    "rounds", "episode_length", "iterations", "num_worlds", "episodes", "episodes_per_iteration",
    "update_epochs", "num_minibatches", "hidden", "conv_channels", "map_embedding", "memory",
    "height", "width", "levels", "labour_levels", "rate_levels", "checkpoint_every",
    "phase1_iterations", "anneal_iterations", "labour_warmup", "group_size", "period",
    "update_every", "view_radius",
}  # fmt: skip
# Fields that name files, maps or other tables, not numbers: not drawn here.
SKIP = {"kind", "map_text", "map_file", "map_name", "controls", "mechanism", "grid", "params"}

SETTINGS = settings(
    max_examples=16,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _toml(name: str) -> dict[str, Any]:
    return tomllib.loads((sc.SCENARIO_DIR / f"{name}.toml").read_text())


def _scripted(kind: str, policy: str, count: int, **world: Any) -> dict[str, Any]:
    return {
        "name": f"fuzz_{kind}",
        "world": {"kind": kind, "num_agents": count, **world},
        "population": [{"policy": policy, "count": count}],
        "evaluation": {"episodes": 2},
    }


def _small_training(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    data["training"] = {"iterations": 1, "num_worlds": 2, "num_minibatches": 1, "hidden": 8}
    data["evaluation"] = {"episodes": 2}
    return data


def _planner_base() -> dict[str, Any]:
    data = _small_training(_toml("public_goods_matching_planner"))
    data["planner"].update(hidden=8, rate_levels=5)
    return data


WORLD_BASES: dict[str, dict[str, Any]] = {
    "public_goods": _scripted("public_goods", "conditional_cooperator", 4),
    "matrix_game": _scripted("matrix_game", "tit_for_tat", 2, rounds=5),
    "commons": _scripted("commons", "greedy_harvester", 5, episode_length=10),
    "economy": _scripted("economy", "gather_build", 4, episode_length=8, height=10, width=10),
    "one_step_economy": _small_training(
        {"world": {"kind": "one_step_economy"}, "population": [{"policy": "ppo", "count": 4}]}
    ),
}


def _mechanism_base(kind: str) -> dict[str, Any]:
    worlds = sc.MECHANISMS[kind].worlds or ("public_goods",)
    data = copy.deepcopy(WORLD_BASES[worlds[0]])
    data["mechanisms"] = [{"kind": kind}]
    return data


# (label, base scenario data, path of the table fuzzed in it, the table's config class)
TARGETS: list[tuple[str, dict[str, Any], tuple, type]] = [
    *[(f"world:{k}", b, ("world",), sc.WORLDS[k][0]) for k, b in WORLD_BASES.items()],
    *[
        (f"mechanism:{k}", _mechanism_base(k), ("mechanisms", 0), sc.MECHANISMS[k].Params)
        for k in sc.MECHANISMS
    ],
    ("training", _small_training(_toml("public_goods_learning")), ("training",), TrainingConfig),
    ("planner", _planner_base(), ("planner",), PlannerConfig),
    ("evaluation", WORLD_BASES["public_goods"], ("evaluation",), EvaluationConfig),
]

NASTY_NUMBERS = [math.nan, math.inf, -math.inf, 1e300, -1e300, 1e-300, 5e-324, -1.0, 0.0, 10**30]
WRONG_TYPES = ["seven", True, {"x": 1}, None]


def _bounds(meta: dict[str, Any]) -> tuple[float | None, float | None]:
    low = meta.get("ge") if meta.get("ge") is not None else meta.get("gt")
    high = meta.get("le") if meta.get("le") is not None else meta.get("lt")
    return low, high


def _in_range(name: str, meta: dict[str, Any], integer: bool) -> st.SearchStrategy:
    low, high = _bounds(meta)
    low = 0 if low is None else low
    high = low + 100 if high is None else high
    if integer:
        top = min(int(high), int(math.ceil(low)) + 4) if name in COST else int(high)
        return st.integers(int(math.ceil(low)), max(int(math.ceil(low)), top))
    return st.one_of(
        st.sampled_from([low, high]),
        st.floats(low, high, allow_nan=False, allow_infinity=False),
    )


def _scalar(name: str, meta: dict[str, Any], tp: Any) -> st.SearchStrategy:
    if meta.get("choices"):
        return st.one_of(st.sampled_from(meta["choices"]), st.sampled_from(["bogus", 3]))
    if tp is bool:
        return st.sampled_from([True, False, "yes", 1])
    if tp is str:
        return st.sampled_from(["", "bogus", 3])
    integer = tp is int
    return st.one_of(
        _in_range(name, meta, integer),
        _in_range(name, meta, integer),  # twice as likely as each kind of nonsense
        st.sampled_from(NASTY_NUMBERS),
        st.sampled_from(WRONG_TYPES),
    )


def _value(name: str, meta: dict[str, Any], tp: Any) -> st.SearchStrategy:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    optional = type(None) in typing.get_args(tp)
    base = args[0] if optional and len(args) == 1 else tp
    if typing.get_origin(base) is list:
        (inner,) = typing.get_args(base)
        element = _scalar(name, meta, inner)
        lists = st.lists(element, min_size=0, max_size=8)
        return st.one_of(lists, st.lists(_in_range(name, meta, inner is int), max_size=8), element)
    strategy = _scalar(name, meta, base)
    return st.one_of(strategy, st.none()) if optional else strategy


def _fields(cls: type) -> list[tuple[str, st.SearchStrategy]]:
    hints = typing.get_type_hints(cls)
    return [
        (f.name, _value(f.name, dict(f.metadata), hints[f.name]))
        for f in dataclasses.fields(cls)
        if f.name not in SKIP and f.init
    ]


@st.composite
def mutations(draw, target: tuple) -> tuple[str, dict[str, Any], list[str], dict[str, Any]]:
    """The target's base scenario with one or two of its table's fields set to drawn values."""
    label, base, path, cls = target
    fields = _fields(cls)
    picks = draw(st.lists(st.integers(0, len(fields) - 1), min_size=1, max_size=2, unique=True))
    data = copy.deepcopy(base)
    table: Any = data
    for part in path:
        table = table.setdefault(part, {}) if isinstance(part, str) else table[part]
    values = {}
    for k in picks:
        name, strategy = fields[k]
        values[name] = table[name] = draw(strategy)
    return label, data, list(values), values


def _check(example, tmp_path_factory) -> None:
    label, data, names, values = example
    where = f"{label} with {values!r}"
    try:
        scenario = sc.from_dict(data, source="fuzz.toml")
        out = tmp_path_factory.mktemp("run")
        run_dir = run_scenario(scenario, out=out)
    except ConfigError as err:
        event(f"refused: {label}")
        message = str(err)
        assert "\n" not in message, where
        assert any(n in message for n in names), f"{where}: refusal names no drawn field: {message}"
        return
    event(f"ran: {label}")
    summary = json.loads(Path(run_dir, "summary.json").read_text(), parse_constant=float)
    for measure, stats in summary["metrics"].items():
        assert math.isfinite(stats["mean"]), f"{where}: {measure} = {stats['mean']}"


@pytest.mark.parametrize("target", TARGETS, ids=[t[0] for t in TARGETS])
def test_fields_run_finite_or_are_refused(target, tmp_path_factory):
    """Each target gets its own fixed budget, so no world or mechanism goes unfuzzed."""

    @SETTINGS
    @given(example=mutations(target))
    def check(example):
        _check(example, tmp_path_factory)

    check()


def test_every_registered_world_and_mechanism_is_a_target():
    labels = {t[0] for t in TARGETS}
    assert {f"world:{k}" for k in sc.WORLDS} <= labels
    assert {f"mechanism:{k}" for k in sc.MECHANISMS} <= labels
    assert {"training", "planner", "evaluation"} <= labels
    for label, base, _, _ in TARGETS:  # every base itself loads: refusals come from the draws
        sc.from_dict(copy.deepcopy(base), source=label)


def test_an_economy_too_short_to_build_has_no_efficiency_rather_than_nan(tmp_path):
    """Found by the fuzzing: one step has a social optimum of 0 coin, and efficiency was
    0 / 0. The measure does not apply there; the run's other measures are finite."""
    data = copy.deepcopy(WORLD_BASES["economy"])
    data["world"]["episode_length"] = 1
    run_dir = run_scenario(sc.from_dict(data), out=tmp_path)
    metrics = json.loads(Path(run_dir, "summary.json").read_text())["metrics"]
    assert "efficiency" not in metrics and "productivity" in metrics
