"""Widgets generated from typed configs, so a new parameter appears in the app with no app code.

Every config class is a dataclass whose fields carry type, default, help and allowed range
(:func:`coopsim.schema.param`). :func:`config_form` draws one widget per field from
:func:`coopsim.schema.field_specs` and returns the values as plain data. Widgets do not clamp
values: whatever the person types goes to :func:`coopsim.scenario.from_dict`, which refuses bad
values with the same :class:`~coopsim.schema.ConfigError` message as the command line, shown
beneath the field it names as well as in the page's check. Numbers are typed in text boxes
(:mod:`coopsim.app.numbers`), which never put an old value back behind the person's back.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Union

import streamlit as st

from coopsim.app import numbers
from coopsim.schema import describe_range, field_specs


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); anything else -> (tp, False)."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
    return tp, False


def help_text(spec: dict[str, Any]) -> str:
    """The field's help line plus its allowed values, for a widget's tooltip."""
    rule = describe_range(spec)
    text = spec.get("help") or ""
    return f"{text}. Allowed: {rule}." if rule else text


def label(name: str) -> str:
    """'num_agents' -> 'Num agents'."""
    return name.replace("_", " ").capitalize()


def format_list(values: Any) -> str:
    if values is None:
        return ""
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def parse_list(text: str, inner: Any) -> list[Any] | str | None:
    """'0, 0.2, 0.5' -> [0.0, 0.2, 0.5]; empty -> None; unparsable -> the text unchanged.

    Returning the text lets :func:`coopsim.scenario.from_dict` refuse it with its own message.
    """
    text = text.strip().strip("[]")
    if not text:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    try:
        if inner is int:
            return [int(t) for t in items]
        if inner is float:
            return [float(t) for t in items]
    except ValueError:
        return text
    return items


def _number_widget(
    shown: str, value: Any, tp: type, optional: bool, key: str, tip: str
) -> int | float | str | None:
    """A number box (:mod:`coopsim.app.numbers`); an optional field left unset shows an empty
    box and gives None.

    Showing an unset optional number as 0 made the form submit 0: a planner's
    ``num_minibatches`` refused as "got 0", a ``skill_seed`` of 0 silently switching skills
    from quantiles to random draws.
    """
    if optional:
        tip = f"{tip} Leave empty to keep it unset (the default).".strip()
    start = None if value is None and optional else (0 if value is None else value)
    return numbers.number_box(shown, start, tp, key=key, help=tip, optional=optional).value


FIELD_SLOTS = "_field_slots"  # scenario path -> (placeholder beneath the field, its widget key)


def start_fields() -> None:
    """Forget the last run's field placeholders (call once before the form is drawn)."""
    st.session_state[FIELD_SLOTS] = {}


def field_slot(path: str, key: str) -> None:
    """A place beneath the widget just drawn for the error the whole design's check finds at
    ``path`` (a scenario's dotted field, e.g. ``world.num_agents``)."""
    st.session_state.setdefault(FIELD_SLOTS, {})[path] = (st.empty(), key)


def show_field_error(path: str | None, problem: str) -> bool:
    """Put the check's error beside the field at ``path``; False where no field of the form
    is at that path (the error is then only in the Check section)."""
    found = st.session_state.get(FIELD_SLOTS, {}).get(path or "")
    if found is None:
        return False
    slot, key = found
    if not numbers.has_error(key):  # a box that shows its own error needs no second one
        slot.error(problem, icon=":material/error:")
    return True


def field_widget(spec: dict[str, Any], value: Any, key: str) -> Any:
    """One widget for one config field; returns the value entered (plain data)."""
    name = spec["name"]
    tp, optional = _unwrap_optional(spec["type"])
    origin = typing.get_origin(tp)
    tip = help_text(spec)
    shown = label(name)
    if value is None:
        value = spec.get("default")  # None for an optional field without a default: unset
    if spec.get("choices"):
        choices = list(spec["choices"])
        index = choices.index(value) if value in choices else 0
        return st.selectbox(shown, choices, index=index, key=key, help=tip)
    if tp is bool:
        return st.checkbox(shown, value=bool(value), key=key, help=tip)
    if tp in (int, float):
        return _number_widget(shown, value, tp, optional, key, tip)
    if origin in (list, tuple):
        (inner, *_) = typing.get_args(tp) or (str,)
        text = st.text_input(
            shown,
            value=format_list(value),
            key=key,
            help=f"{tip} Comma-separated, e.g. 0, 20, 30.".strip(),
        )
        return parse_list(text, inner)
    shown_value = "" if value is None else str(value)
    hint = "unset: the default" if optional else None
    if is_multiline(name, shown_value):
        text = st.text_area(
            shown, value=shown_value.strip("\n"), key=key, help=tip, height=200, placeholder=hint
        )
    else:
        text = st.text_input(shown, value=shown_value, key=key, help=tip, placeholder=hint)
    return text if text or not optional else None


def is_multiline(name: str, value: str) -> bool:
    """Text over several lines: a field named ``*_text`` (a commons map) or a value with line
    breaks, which a one-line box would flatten into a different value."""
    return name.endswith("_text") or "\n" in value


def config_form(
    cls: type,
    values: dict[str, Any],
    key: str,
    *,
    skip: tuple[str, ...] = ("kind",),
    columns: int = 2,
    path: str | None = None,
) -> dict[str, Any]:
    """Widgets for every field of ``cls`` (a config dataclass), laid out in ``columns``.

    ``values`` are the current values (missing ones take the field's default); returns the
    entered values, with empty optional fields left out so the config's defaults apply.
    ``path`` is where the fields sit in the scenario (``world``, ``mechanisms.0``): with it,
    the design's check can put an error beneath the field it names (:func:`show_field_error`).
    """
    out: dict[str, Any] = {}
    specs = [s for s in field_specs(cls) if s["name"] not in skip and s["type"] is not dict]
    if not specs:
        st.caption("No parameters.")
        return out
    cols = st.columns(columns)
    for i, spec in enumerate(specs):
        with cols[i % columns]:
            value = field_widget(spec, values.get(spec["name"]), f"{key}.{spec['name']}")
            if path is not None:
                field_slot(f"{path}.{spec['name']}", f"{key}.{spec['name']}")
        if value is not None:
            out[spec["name"]] = value
    return out


def defaults(cls: type) -> dict[str, Any]:
    """A config class's defaults as plain data (fields without a default are left out)."""
    out = {}
    for spec in field_specs(cls):
        if spec["default"] is not None and not dataclasses.is_dataclass(spec["default"]):
            out[spec["name"]] = spec["default"]
    return out
