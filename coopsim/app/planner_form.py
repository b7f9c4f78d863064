"""The planner on the Design page: a "let the planner choose" switch beside every parameter a
planner may set, a range editor for each one switched on, and the ``[planner]`` table.

What a planner may set is the mechanisms' to say (``control_specs``, ``planner_refusal``,
the parameters' declared bounds), so a new controllable parameter gets its switch with no app
code. The switches are the truth: the ``[planner]`` table is written from them on every rerun,
its ``controls`` in the order they were switched on (the order the planner's heads and the
``rate_<k>`` columns of a training log follow), and it is removed when every switch is off.
A range is written to ``[planner.grid]`` only where it narrows the declared bounds, so a ready
scenario opened and saved unchanged keeps its file's meaning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import streamlit as st

from coopsim.app import forms, numbers
from coopsim.config.planner import MIXABLE, OBJECTIVES, PlannerConfig
from coopsim.schema import ConfigError, build, field_specs
from mechanisms import MECHANISMS

#: What each objective rewards, for the objective box's help.
OBJECTIVE_WORDS = {
    "equality_times_productivity": "equality (1 - Gini) times total coin, the AI Economist's",
    "utilitarian": "the sum of the agents' utility",
    "nash": "the sum of the logs of the agents' utility (Nash welfare)",
    "rawls": "the utility of the worst-off agent",
    "contribution_rate": "the share of their endowment agents contribute",
    "net_welfare": "the agents' coin less what the sponsor pays, each unit valued at the "
    "sponsor cost (the marginal cost of public funds)",
    "votes": "the share of agents better off than under a baseline rule, in paired worlds "
    "(Democratic AI's majority vote)",
    "mix": "a weighted sum of the objectives above",
}

#: PlannerConfig fields this module draws itself; config_form draws the rest.
OWN_FIELDS = ("controls", "mechanism", "grid", "objective", "weights", "sponsor_cost", "baseline")


@dataclass(frozen=True)
class Control:
    """One parameter of one mechanism of the pipeline that a planner may set."""

    index: int  # the mechanism's place in the pipeline
    kind: str  # the mechanism's kind
    param: str  # the control's name in the mechanism's control_specs
    name: str  # as planner.controls names it: 'matching.rate', or 'tax#1.rates' for a repeat
    width: int  # values per world (a tax's rates: one per bracket)
    low: float | None  # declared bounds; None where the parameter declares none
    high: float | None
    period: int  # the mechanism's settlement period: the planner's must be a multiple
    value: Any  # the value configured now (a tuple for a tax's rates)


def controls_of(mechanisms: list[dict[str, Any]]) -> list[Control] | None:
    """Every control the pipeline ``mechanisms`` (as the form holds them) offers a planner, or
    None while one of them does not validate (what it offers depends on its parameters: a
    tax's brackets; the page shows the loader's message for it). A mechanism that refuses a
    planner (a Saez tax) offers none.
    """
    kinds = [m.get("kind") for m in mechanisms]
    out = []
    for index, entry in enumerate(mechanisms):
        cls = MECHANISMS.get(entry.get("kind"))
        if cls is None:
            return None
        try:
            params = build(cls.Params, {k: v for k, v in entry.items() if k != "kind"})
        except ConfigError:
            return None
        if cls.planner_refusal(params) is not None:
            continue
        head = cls.kind if kinds.count(cls.kind) == 1 else f"{cls.kind}#{index}"
        for name, spec in cls.control_specs(params).items():
            out.append(
                Control(
                    index,
                    cls.kind,
                    name,
                    f"{head}.{name}",
                    spec.width,
                    spec.low,
                    spec.high,
                    cls.period_of(params) or 1,
                    _hashable(getattr(params, name, None)),
                )
            )
    return out


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def named(planner: dict[str, Any] | None, controls: list[Control]) -> list[Control]:
    """The controls ``planner`` names, in its order; entries naming nothing here are dropped.

    Reads every form the loader accepts: '<kind>.<param>', '<kind>#<index>.<param>',
    '<kind>' (all of its controls) and the older ``mechanism = '<kind>'``.
    """
    if not planner:
        return []
    entries = planner.get("controls") or [planner.get("mechanism") or "tax"]
    out: list[Control] = []
    for entry in entries:
        if not isinstance(entry, str):
            continue
        head, _, param = entry.partition(".")
        kind, _, index = head.partition("#")
        for c in controls:
            if (
                c.kind == kind
                and (not index or index == str(c.index))
                and (not param or param == c.param)
                and c not in out
            ):
                out.append(c)
    return out


def default_range(control: Control) -> tuple[float, float]:
    """Where the range editor starts: the declared bounds; a parameter with no upper bound
    (a fine) starts at twice its value, at least 1, for the person to change."""
    low = 0.0 if control.low is None else float(control.low)
    if control.high is not None:
        return low, float(control.high)
    values = control.value if isinstance(control.value, (list, tuple)) else [control.value]
    top = max([float(v) for v in values if isinstance(v, (int, float))] or [0.0])
    return low, max(1.0, 2.0 * top)


def _range_editor(control: Control, grid: dict[str, Any], key: str, cols: list) -> list[Any] | None:
    """Two boxes, in ``cols``, for the range the planner searches; the range to write to
    [planner.grid], or None where it is the declared one."""
    low, high = default_range(control)
    given = grid.get(control.name)
    if isinstance(given, (list, tuple)) and len(given) == 2:
        low, high = given  # as entered: a box refused last time shows its text again
    declared = f"[{control.low:g}, {control.high:g}]" if control.high is not None else None
    tip = (
        f"The planner chooses {control.name} among its grid's values from lowest to highest "
        f"(Rate levels of them, evenly spaced). Declared bounds: {declared or 'no upper bound'}."
    )
    low = numbers.number_box(
        f"Lowest {control.param}", low, float, key=f"{key}.low", help=tip, where=cols[0]
    ).value
    high = numbers.number_box(
        f"Highest {control.param}", high, float, key=f"{key}.high", help=tip, where=cols[1]
    ).value
    if declared is not None and (low, high) == (float(control.low), float(control.high)):
        return None
    return [low, high]  # a refused box's text goes too, so the design's check refuses it


def switches(
    controls: list[Control], planner: dict[str, Any] | None, key: str
) -> dict[Control, list[float] | None]:
    """A switch per control of one mechanism, with its range beside it when on: the controls
    switched on, each with its narrowed range or None."""
    if not controls:
        return {}
    on_now = set(named(planner, controls))
    grid = dict((planner or {}).get("grid") or {})
    chosen: dict[Control, list[float] | None] = {}
    for control in controls:
        width = f", one per bracket ({control.width})" if control.width > 1 else ""
        row = st.columns([2, 1, 1], vertical_alignment="bottom")
        on = row[0].toggle(
            f"Let the planner choose {control.param}",
            value=control in on_now,
            key=f"{key}.plan.{control.param}",
            help=f"A learning planner sets {control.name}{width} every planner period to "
            "maximise the objective chosen under Planner; the value above is then only where "
            "worlds start.",
        )
        if on:
            chosen[control] = _range_editor(control, grid, f"{key}.plan.{control.param}", row[1:])
    return chosen


def _new_planner(chosen: list[Control]) -> dict[str, Any]:
    """A first [planner] table: the defaults, deciding at a multiple of every controlled
    mechanism's period (a tax settling every 100 steps is set every 100 steps)."""
    return {"period": math.lcm(*(c.period for c in chosen))}


def _presets(chosen: list[Control]) -> list[str]:
    """Named settings of every controlled mechanism: what a vote can be held against."""
    kinds = dict.fromkeys(c.kind for c in chosen)
    return list(dict.fromkeys(p for k in kinds for p in MECHANISMS[k].presets))


def _objective(current: dict[str, Any], chosen: list[Control], key: str) -> dict[str, Any]:
    """The objective box, and only the fields that objective reads."""
    name = current.get("objective", "equality_times_productivity")
    objective = st.selectbox(
        "Objective",
        OBJECTIVES,
        index=OBJECTIVES.index(name) if name in OBJECTIVES else 0,
        key=f"{key}.objective",
        format_func=lambda o: o.replace("_", " "),
        help="What the planner maximises. "
        + "; ".join(f"{o.replace('_', ' ')}: {w}" for o, w in OBJECTIVE_WORDS.items()),
    )
    out: dict[str, Any] = {"objective": objective}
    specs = {s["name"]: s for s in field_specs(PlannerConfig)}
    if objective == "net_welfare":
        out["sponsor_cost"] = forms.field_widget(
            specs["sponsor_cost"], current.get("sponsor_cost"), f"{key}.sponsor_cost"
        )
    elif objective == "votes":
        presets = _presets(chosen)
        if not presets:
            st.warning(
                "A vote needs a baseline: a named setting (preset) of a controlled mechanism, "
                "and none of the controlled mechanisms has one (a redistribution does)."
            )
        else:
            baseline = current.get("baseline")
            out["baseline"] = st.selectbox(
                "Baseline",
                presets,
                index=presets.index(baseline) if baseline in presets else 0,
                key=f"{key}.baseline",
                help=forms.help_text(specs["baseline"]),
            )
    elif objective == "mix":
        st.caption("Weights of the mix: leave an objective empty to leave it out.")
        weights = current.get("weights") or {}
        cols = st.columns(3)
        mix = {}
        for i, part in enumerate(MIXABLE):
            with cols[i % 3]:
                value = numbers.number_box(
                    part.replace("_", " "),
                    weights.get(part),
                    float,
                    optional=True,
                    key=f"{key}.weights.{part}",
                    help=f"Weight of {part.replace('_', ' ')}: {OBJECTIVE_WORDS[part]}.",
                ).value
            if value is not None:
                mix[part] = value
        out["weights"] = mix
    return out


def planner_section(
    current: dict[str, Any] | None, chosen: dict[Control, list[float] | None], key: str
) -> dict[str, Any] | None:
    """The [planner] table for the controls switched on (None when none is)."""
    st.subheader("Planner")
    if not chosen:
        st.caption(
            "No planner: every rule stays as set above. Switch on 'Let the planner choose' "
            "beside a mechanism's parameter and a learning planner sets it during training."
        )
        return None
    order = named(current, list(chosen))
    order += [c for c in chosen if c not in order]  # new switches go last
    st.caption(
        "A learning planner sets "
        + ", ".join(c.name for c in order)
        + " during training, every Period steps, to maximise the objective."
    )
    base = dict(current) if current else _new_planner(order)
    planner: dict[str, Any] = {"controls": [c.name for c in order]}
    grid = {c.name: chosen[c] for c in order if chosen[c] is not None}
    if grid:
        planner["grid"] = grid
    planner.update(_objective(base, order, key))
    planner.update(
        forms.config_form(PlannerConfig, base, key, skip=OWN_FIELDS, columns=3, path="planner")
    )
    return planner
