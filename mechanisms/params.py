"""Parameters that carry their rules: the vocabulary every config dataclass is written in.

A field made with :func:`param` holds its help text and allowed range (or choices) in its
metadata; :mod:`coopsim.schema` validates plain data against those rules and forms draw widgets
from them. It lives here, at the bottom of the import graph, because mechanisms declare their
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
    default_factory: Any = MISSING,
) -> Any:
    """A dataclass field with its validation rules and a line of help text."""
    meta = {"help": help, "ge": ge, "gt": gt, "le": le, "lt": lt, "choices": choices}
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
