"""The docs' scenario and parameter tables, generated from the code that checks scenarios.

The pages never type these tables: a page holds a marker such as
``<!-- coopsim:params world=commons -->`` and the docs build (``scripts/docs/hooks.py``)
replaces it with :func:`render`'s table, read from the same field declarations
(:func:`coopsim.schema.field_specs`) and scenario files that ``coopsim.scenario.load`` uses.
A table therefore cannot disagree with what a scenario file is allowed to say.
"""

from __future__ import annotations

import re
from typing import Any

MARKER = re.compile(r"<!-- coopsim:(?P<what>[a-z]+)(?P<args>(?: [a-z_]+=[a-z_]+)*) -->")


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value!r}`" if isinstance(value, str) else f"`{value}`"


def params_table(cls: type) -> str:
    """One row per field of a config dataclass: name, type, default, allowed values, help."""
    from coopsim.schema import _type_name, describe_range, field_specs

    rows = [
        "| field | type | default | allowed | what it does |",
        "| --- | --- | --- | --- | --- |",
    ]
    for spec in field_specs(cls):
        rows.append(
            f"| `{spec['name']}` | {_cell(_type_name(spec['type']))} | "
            f"{_cell(_default(spec['default']))} | {_cell(describe_range(spec))} | "
            f"{_cell(spec.get('help') or '')} |"
        )
    return "\n".join(rows) + "\n"


def world_params(world: str) -> str:
    """The ``[world]`` table's fields for a world kind (``kind = "<world>"``)."""
    from coopsim.envs import WORLDS

    if world not in WORLDS:
        raise KeyError(f"no world {world!r}; known: {', '.join(WORLDS)}")
    return params_table(WORLDS[world][0])


def mechanism_params(mechanism: str) -> str:
    """A ``[[mechanisms]]`` entry's fields for a mechanism kind."""
    from mechanisms import MECHANISMS

    if mechanism not in MECHANISMS:
        raise KeyError(f"no mechanism {mechanism!r}; known: {', '.join(MECHANISMS)}")
    return params_table(MECHANISMS[mechanism].Params)


def all_mechanism_params() -> str:
    """Every mechanism kind, a heading and its fields each, in the registry's order."""
    from mechanisms import MECHANISMS

    parts = []
    for kind, cls in MECHANISMS.items():
        doc = (cls.__doc__ or "").strip().split("\n\n")[0]
        controllable = ", ".join(f"`{kind}.{c}`" for c in getattr(cls, "controllable", ()))
        planner = f" A planner may set {controllable}." if controllable else ""
        parts.append(f"### `{kind}`\n\n{_cell(doc)}{planner}\n\n{params_table(cls.Params)}")
    return "\n".join(parts)


def scenarios_table(world: str | None = None) -> str:
    """The ready scenarios (of one world kind, or all): learning or scripted, rules, what it is."""
    from coopsim import scenario as sc

    rows = [
        "| scenario | world | agents | mechanisms | planner | description |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, path in sc.list_scenarios().items():
        loaded = sc.load(path)
        if world is not None and loaded.world.kind != world:
            continue
        mechs = ", ".join(f"`{m.kind}`" for m in loaded.mechanisms) or "none"
        planner = "yes" if loaded.planner is not None else ""
        rows.append(
            f"| `{name}` | `{loaded.world.kind}` | {'learning' if loaded.learns else 'scripted'} | "
            f"{mechs} | {planner} | {_cell(loaded.description)} |"
        )
    if len(rows) == 2:
        raise KeyError(f"no scenario has world kind {world!r}")
    return "\n".join(rows) + "\n"


def measures_table() -> str:
    """Every measure of the registry (``coopsim.measures.MEASURES``): what a run reports."""
    from coopsim.measures import MEASURES

    rows = [
        "| measure | label | computed on | unit | better | meaning |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for m in MEASURES.values():
        rows.append(
            f"| `{m.name}` | {_cell(m.label)} | {_cell(m.reads)} | {_cell(m.unit)} | "
            f"{m.better} | {_cell(m.meaning)} |"
        )
    return "\n".join(rows) + "\n"


def render(what: str, **args: str) -> str:
    """The table a marker names; an unknown marker is an error, so a typo fails the build."""
    if what == "params" and set(args) == {"world"}:
        return world_params(args["world"])
    if what == "params" and set(args) == {"mechanism"}:
        return mechanism_params(args["mechanism"])
    if what == "mechanisms" and not args:
        return all_mechanism_params()
    if what == "measures" and not args:
        return measures_table()
    if what == "scenarios" and set(args) <= {"world"}:
        return scenarios_table(args.get("world"))
    raise KeyError(f"unknown docs table marker coopsim:{what} {args}")


def expand(markdown: str) -> str:
    """The page with every marker replaced by its generated table."""

    def one(m: re.Match) -> str:
        args = dict(a.split("=", 1) for a in m.group("args").split())
        return render(m.group("what"), **args)

    return MARKER.sub(one, markdown)
