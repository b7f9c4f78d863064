"""Griffe extension: a docstring's doctest examples render as code in the API reference.

Docstrings here carry ``>>>`` examples inline (``tests/integration/test_doctests.py`` runs them), not in
an ``Examples:`` section, so Markdown would read ``>>>`` as nested quotes and ``x[a][b]`` as a
reference link. This wraps each example (its ``>>>``/``...`` lines and the output up to the
next blank line) in a ``pycon`` fence before mkdocstrings renders the docstring.
"""

from __future__ import annotations

import griffe


def fence_doctests(text: str) -> str:
    """``text`` with every doctest example fenced; other lines unchanged."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        stripped = lines[i].lstrip()
        if not stripped.startswith(">>>"):
            out.append(lines[i])
            i += 1
            continue
        indent = lines[i][: len(lines[i]) - len(stripped)]
        out.append(f"{indent}```pycon")
        while i < len(lines) and lines[i].strip():
            out.append(lines[i])
            i += 1
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Fences the doctest examples of every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:  # noqa: ARG002
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
