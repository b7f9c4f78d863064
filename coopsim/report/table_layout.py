"""How a report table is printed: cell text, which columns are numbers, and column groups.

A table wider than a page reads as several narrower tables that each repeat the row names,
rather than as columns squeezed until every cell is a tower of one-word lines or as numbers
cut off at the page edge. The widths are estimated from characters, which is enough to decide
where to split; the typesetter (a browser, or WeasyPrint for the PDF) sets the columns.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

#: One number as the tables print it: optional sign, thousands separators, decimals, exponent.
_NUMBER = r"[-+\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?%?"
#: A numeric cell: a number, optionally followed by its interval "[low, high]", or a gap.
_NUMERIC_CELL = re.compile(rf"(?:{_NUMBER}(?:\s*\[{_NUMBER},\s*{_NUMBER}\])?|nan|-?inf|)")

#: Width of the widest table a page holds, in ems of the table font (A4 less its margins at
#: 7.5 pt; a little under 68 em, so an estimate slightly short still fits).
PAGE_EMS = 64.0
#: Estimated width of one character (digits are the widest common glyphs, ~0.64 em) and of a
#: cell's padding, in ems.
CHAR_EMS = 0.64
PAD_EMS = 1.0
#: Words longer than this (run names, timestamps, identifiers) may break after a separator.
LONG_WORD = 12
_BREAK_AFTER = re.compile(r"(?<=[_\-/+:])(?=.)")


def cell_text(value: Any, digits: int, missing: str = "") -> str:
    """How a table prints one value: floats with ``digits`` decimals, gaps as ``missing``."""
    if value is None:
        return missing
    if isinstance(value, (float, np.floating)):
        return missing if np.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def numeric_columns(frame: pd.DataFrame, digits: int) -> list[bool]:
    """Which columns hold numbers, so they can be right-aligned and their digits line up.

    A column counts as numeric when pandas stores it as numbers, or when every printed cell
    reads as a number (the comparison table holds "mean [low, high]" as text).
    """
    flags = []
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_bool_dtype(series):
            flags.append(False)
        elif pd.api.types.is_numeric_dtype(series):
            flags.append(True)
        else:
            cells = [cell_text(v, digits) for v in series]
            flags.append(any(cells) and all(_NUMERIC_CELL.fullmatch(c) for c in cells))
    return flags


def number_parts(text: str) -> tuple[str, str]:
    """A numeric cell split into its number and its interval ("" when it has none).

    The two may go on separate lines, the interval beneath its mean as in printed tables;
    neither is ever broken.
    """
    mean, _, interval = text.partition(" [")
    return (mean, f"[{interval}") if interval else (text, "")


def word_pieces(word: str) -> list[str]:
    """The parts a word may be broken into at a line's end: a long word (a run name, a
    timestamp, an identifier) after each ``_ - / + :`` in it, as a reader expects; a short
    word never."""
    return _BREAK_AFTER.split(word) if len(word) > LONG_WORD else [word]


def _least_ems(header: str, cells: list[str], numeric: bool) -> float:
    """The narrowest a column can be set without breaking a number or a word's piece."""
    if numeric:
        pieces = [p for c in cells for p in number_parts(c) if p]
    else:
        pieces = [p for c in cells for w in c.split() for p in word_pieces(w)]
    heads = [p for w in header.split() for p in word_pieces(w)]
    return CHAR_EMS * max((len(p) for p in pieces + heads), default=0) + PAD_EMS


def column_groups(
    header: list[str], cells: list[list[str]], numeric: list[bool], page_ems: float = PAGE_EMS
) -> list[list[int]]:
    """Column indices per group, each group led by the first column and narrow enough for a page.

    ``cells`` is the table's printed text, row by row. A table that fits is one group.
    """
    least = [
        _least_ems(h, [row[j] for row in cells], num)
        for j, (h, num) in enumerate(zip(header, numeric))
    ]
    if len(least) < 2 or sum(least) <= page_ems:
        return [list(range(len(least)))]
    groups: list[list[int]] = []
    used = page_ems + 1.0
    for j in range(1, len(least)):
        if used + least[j] > page_ems and (not groups or len(groups[-1]) > 1):
            groups.append([0])
            used = least[0]
        groups[-1].append(j)
        used += least[j]
    return groups
