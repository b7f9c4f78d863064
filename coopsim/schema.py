"""Typed, validated configuration from plain dictionaries (TOML tables).

Config classes are dataclasses whose fields carry their rules (range, choices, help) in
metadata, made with :func:`param` (defined in :mod:`mechanisms.params`, which mechanisms use
too, and re-exported here). :func:`build` turns a dict into such a dataclass and refuses
bad input with one :class:`ConfigError` naming the file, the dotted field and what is allowed.
The same metadata drives the app's widgets, so a new parameter needs no front-end code.

Every number passes one check here, whoever supplies it (a scenario file, a sweep's ``--set``
or ``[sweep]`` values, the app's design form): it is finite unless its field says otherwise,
an integer fits in 64 bits, and list elements meet their field's bounds one by one. Checking
once, in the one place every config is built, is what keeps a NaN from reaching a world by a
door nobody thought of.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar, Union

from coopsim.files import TOMLDecodeError, read_toml
from mechanisms.params import MISSING, describe_range, param

__all__ = ["MISSING", "ConfigError", "build", "describe_range", "field_specs", "param", "to_dict"]

T = TypeVar("T")

# A TOML integer is a signed 64-bit number; Python's are unbounded, so a form or a sweep value
# could hand over 10**30, which no tensor index or seed can hold.
INT64_MAX = 2**63 - 1


class ConfigError(ValueError):
    """A scenario or config value that cannot be used; the message says where and why."""

    def __init__(self, source: str | None, field: str, problem: str):
        self.source = source
        self.field = field
        self.problem = problem
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{field}: {problem}")


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin in (list, tuple):
        (inner, *_) = typing.get_args(tp) or (Any,)
        plural = {int: "integers", float: "numbers", bool: "true/false values", str: "strings"}
        return f"a list of {plural.get(inner) or _type_name(inner) + 's'}"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {int: "an integer", float: "a number", bool: "true/false", str: "a string"}.get(
        tp, "None" if tp is type(None) else getattr(tp, "__name__", str(tp))
    )


def _coerce(value: Any, tp: Any, source: str | None, name: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, source, name)
            except ConfigError:
                continue
        raise ConfigError(source, name, f"got {value!r}, expected {_type_name(tp)}")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(source, name, f"got {value!r}, expected {_type_name(tp)}")
        (inner, *_) = typing.get_args(tp) or (Any,)
        items = [_coerce(v, inner, source, f"{name}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise ConfigError(source, name, f"got {value!r}, expected a table")
        return build(tp, value, source=source, prefix=name)
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(source, name, f"got {value!r}, expected true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(source, name, f"got {_short(value)}, expected an integer")
        if abs(value) > INT64_MAX:
            raise ConfigError(
                source, name, f"got {_short(value)}, expected an integer within +-(2**63 - 1)"
            )
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(source, name, f"got {_short(value)}, expected a number")
        try:
            return float(value)
        except OverflowError:  # an integer beyond float range (10**400)
            raise ConfigError(
                source, name, f"got {_short(value)}, expected a finite number"
            ) from None
    if tp is dict or typing.get_origin(tp) is dict:
        if not isinstance(value, dict):
            raise ConfigError(source, name, f"got {_short(value)}, expected a table (key = value)")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(source, name, f"got {value!r}, expected a string")
        return value
    return value


def _short(value: Any) -> str:
    """``repr`` of a value, cut short: a 400-digit integer must not fill the message."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...{text[-8:]} ({len(text)} characters)"


def _outside(v: float, meta: Mapping[str, Any]) -> bool:
    """Whether a number breaks one of the field's bounds (ge, gt, le, lt)."""
    return (
        (meta.get("ge") is not None and v < meta["ge"])
        or (meta.get("gt") is not None and v <= meta["gt"])
        or (meta.get("le") is not None and v > meta["le"])
        or (meta.get("lt") is not None and v >= meta["lt"])
    )


def _refuse_integers_out_of_bounds(
    value: Any, meta: Mapping[str, Any], source: str | None, name: str
) -> None:
    """Integers (list elements too) outside the field's bounds, compared exactly: a Python
    integer of any size compares with a bound without being converted to a float."""
    many = isinstance(value, (list, tuple))
    for i, v in enumerate(value if many else [value]):
        if isinstance(v, bool) or not isinstance(v, int):
            continue
        if _outside(v, meta):
            at = f"element {i}: " if many else ""
            raise ConfigError(source, name, f"{at}got {_short(v)}, must be {describe_range(meta)}")


def _check_rules(value: Any, meta: Mapping[str, Any], source: str | None, name: str) -> None:
    """``value`` (each element of a list) against the field's choices, finiteness and bounds.
    The error names the field itself (forms place it beside that field) and, for a list, the
    bad element's index in the problem: ``world.endowments: element 0: got nan, ...``."""
    many = isinstance(value, (list, tuple))
    for i, v in enumerate(value if many else [value]):
        at = f"element {i}: " if many else ""
        if meta.get("choices") is not None and v not in meta["choices"]:
            raise ConfigError(source, name, f"{at}got {v!r}, allowed: {describe_range(meta)}")
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            continue
        if meta.get("finite", True) and not math.isfinite(v):
            rule = describe_range(meta)
            raise ConfigError(
                source, name, f"{at}got {v!r}, must be a finite number{f' {rule}' if rule else ''}"
            )
        if _outside(v, meta):
            raise ConfigError(source, name, f"{at}got {_short(v)}, must be {describe_range(meta)}")


def read_config_toml(path: str | os.PathLike) -> dict[str, Any]:
    """A config file (scenario, population, sweep, stress settings, a run's record) as plain
    data; bad syntax, or bytes that are not UTF-8, is one :class:`ConfigError` naming the file,
    not a traceback from the parser."""
    try:
        return read_toml(path)
    except (TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(str(path), "(syntax)", f"not valid TOML: {err}") from None


def resolve_named_file(name_or_path: str | os.PathLike, folder: Path, kind: str) -> Path:
    """A shipped file's name ('public_goods', 'fgf2001') or a path to a TOML file -> the file.

    Scenarios and population files are both named this way; one resolver gives both the same
    two errors: a path that is no file, and a name that is none of the shipped ones (listed)."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise ConfigError(str(p), "(file)", f"no such {kind} file")
        return p
    candidate = folder / f"{p.name}.toml"
    if not candidate.is_file():
        known = ", ".join(sorted(q.stem for q in folder.glob("*.toml"))) or "(none found)"
        raise ConfigError(str(name_or_path), f"({kind})", f"no such {kind}; known {kind}s: {known}")
    return candidate


def build(
    cls: type[T], data: Mapping[str, Any], *, source: str | None = None, prefix: str = ""
) -> T:
    """Make ``cls`` from ``data``, refusing unknown keys, wrong types and out-of-range values.

    ``prefix`` is the dotted path of ``data`` inside the file, used in error messages. A class
    may define ``validate(self) -> None`` raising ``ValueError`` for rules that span fields; its
    message is reported against the table itself.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(source, prefix or "(top level)", f"got {data!r}, expected a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in data if k not in fields]
    if unknown:
        allowed = ", ".join(fields)
        name = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        raise ConfigError(source, name, f"unknown key; allowed keys here: {allowed}")
    kwargs: dict[str, Any] = {}
    for fname, f in fields.items():
        dotted = f"{prefix}.{fname}" if prefix else fname
        if fname not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ConfigError(source, dotted, f"missing; expected {_type_name(hints[fname])}")
            continue
        try:
            value = _coerce(data[fname], hints[fname], source, dotted)
        except ConfigError:
            # A huge integer fails coercion; where the field has bounds, they say more than
            # "within 64 bits" (a 20-digit agent count: "must be >= 2 and <= 64").
            if int in (hints[fname], *typing.get_args(hints[fname])):
                _refuse_integers_out_of_bounds(data[fname], f.metadata, source, dotted)
            raise
        if value is not None:
            _check_rules(value, f.metadata, source, dotted)
        kwargs[fname] = value
    obj = cls(**kwargs)
    check = getattr(obj, "validate", None)
    if callable(check):
        try:
            check()
        except ConfigError:
            raise
        except ValueError as err:
            raise ConfigError(source, prefix or "(top level)", str(err)) from None
    return obj


def to_dict(obj: Any) -> dict[str, Any]:
    """A dataclass config back to plain TOML-able data (None values dropped)."""

    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items() if x is not None}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    return clean(dataclasses.asdict(obj))


def field_specs(cls: type) -> list[dict[str, Any]]:
    """Each field's name, type, default and rules: what a form needs to draw a widget."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not MISSING else None
        if f.default_factory is not MISSING:
            default = f.default_factory()
        out.append({"name": f.name, "type": hints[f.name], "default": default, **f.metadata})
    return out
