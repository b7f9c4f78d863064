"""Parameters that carry their rules: the vocabulary every config dataclass is written in.

A field made with :func:`param` holds its help text and allowed range (or choices) in its
metadata; :mod:`coopsim.schema` validates plain data against those rules and forms draw widgets
from them. A number is finite unless its field says ``finite=False``: NaN and infinity are
refused before a world ever sees them, because a run fed one prints numbers it never computed
(equality 1.0 beside productivity NaN). Every numeric field also declares both ends of its
range, chosen so the world's float32 arithmetic stays finite at the extremes (an endowment x
agents x rounds x multiplier far below float32's 3.4e38); the comment at each bound says why. It lives here, at the bottom of the import graph, because mechanisms declare their
parameters with it and ``mechanisms`` imports nothing of ``coopsim``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

MISSING = dataclasses.MISSING


def param(
    default: Any = MISSING,
    *,
    help: str,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: tuple[Any, ...] | None = None,
    finite: bool = True,
    overflow_limit: bool = False,
    default_factory: Any = MISSING,
) -> Any:
    """A dataclass field with its validation rules and a line of help text.

    The bounds apply to each element of a list field too. ``finite=False`` lets NaN and
    infinity through (no field needs it today; a sentinel such as 'no limit' would).
    ``overflow_limit=True`` says the upper bound only keeps the arithmetic finite and is no
    range worth searching: a planner controlling the field then needs its grid from the
    scenario, as for a field with no upper bound.
    """
    meta = {
        "help": help,
        "ge": ge,
        "gt": gt,
        "le": le,
        "lt": lt,
        "choices": choices,
        "finite": finite,
        "overflow_limit": overflow_limit,
    }
    if default_factory is not MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def describe_range(meta: Mapping[str, Any]) -> str:
    """Human words for a field's allowed values, e.g. '>= 0 and <= 1'."""
    if meta.get("choices"):
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    parts = []
    for key, word in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
        if meta.get(key) is not None:
            parts.append(f"{word} {meta[key]:g}")
    return " and ".join(parts)
