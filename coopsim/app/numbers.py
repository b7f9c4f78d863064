"""Number boxes that never revert silently: the box keeps what was typed, or says why not.

Why not ``st.number_input``: its browser side throws away what it cannot hold and puts the
previous value back without a word: ``1e309`` (beyond a float), an emptied box, a 20-digit
agent count (beyond what JavaScript holds exactly). The person then runs a design that is not
the one on screen. These boxes are text boxes parsed here: a number the design can use is used
exactly as typed; anything else gets an error beside the field, and the design receives the
text as typed, so :func:`coopsim.scenario.from_dict` refuses it too and nothing runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import streamlit as st

#: Largest float, for the message on a number beyond it.
FLOAT_MAX = "1.8e308"
#: Session-state key: the widget keys of the boxes that show their own error in this run.
BOX_ERRORS = "_number_box_errors"


@dataclass(frozen=True)
class Parsed:
    """What a number box holds: the value the design uses, or why it has none."""

    value: int | float | str | None  # the number; None: left unset; the text: refused
    error: str | None = None


def shown(value: Any) -> str:
    """A number as its box shows it: exact (``repr``), so reading it back changes nothing."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def parse(text: str, kind: type, *, optional: bool = False) -> Parsed:
    """``text`` as an ``int`` or ``float``; empty is unset where ``optional``, else an error.

    Whole numbers written as ``1e3`` or ``20.0`` count as integers; ``nan``, ``inf`` and
    numbers beyond a float are refused, since no world's arithmetic can use them.
    """
    text = text.strip().replace("_", "")
    if not text:
        if optional:
            return Parsed(None)
        return Parsed("", "empty: type a number (this field has no unset value)")
    try:
        number = float(text)
    except ValueError:
        return Parsed(text, f"{text!r} is not a number")
    if not math.isfinite(number):
        if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            return Parsed(text, f"{text!r} is not a finite number")
        return Parsed(text, f"{text} is beyond the largest number a run can hold ({FLOAT_MAX})")
    if kind is int:
        try:
            whole = int(text)
        except ValueError:
            if not number.is_integer():
                return Parsed(text, f"{text} is not a whole number")
            whole = int(number)
        return Parsed(whole)
    return Parsed(number)


def within(parsed: Parsed, low: float | None = None, high: float | None = None) -> Parsed:
    """``parsed``, or an error where its number lies outside ``[low, high]``."""
    if parsed.error or not isinstance(parsed.value, (int, float)):
        return parsed
    v = parsed.value
    if (low is not None and v < low) or (high is not None and v > high):
        allowed = (
            f"{low:g} to {high:g}"
            if low is not None and high is not None
            else (f">= {low:g}" if low is not None else f"<= {high:g}")
        )
        return Parsed(v, f"got {v}, allowed: {allowed}")
    return parsed


def number_box(
    label: str,
    value: Any,
    kind: type,
    *,
    key: str,
    help: str | None = None,  # noqa: A002 - Streamlit's name for it
    optional: bool = False,
    low: float | None = None,
    high: float | None = None,
    where: Any = st,
) -> Parsed:
    """A box for one number, drawn in ``where``; an error on what was typed shows beneath it.

    ``low`` and ``high`` bound boxes that are the page's own (seeds, workers); a scenario's
    fields leave the bounds to the design's check, which names the field the same way the
    command line does.
    """
    entered = where.text_input(
        label,
        value=shown(value),
        key=key,
        help=help,
        placeholder="unset" if optional else None,
    )
    parsed = within(parse(entered or "", kind, optional=optional), low, high)
    if parsed.error:
        where.error(parsed.error, icon=":material/error:")
        st.session_state.setdefault(BOX_ERRORS, set()).add(key)
    else:
        st.session_state.setdefault(BOX_ERRORS, set()).discard(key)
    return parsed


def has_error(key: str) -> bool:
    """Whether the box ``key`` shows its own error now."""
    return key in st.session_state.get(BOX_ERRORS, set())
