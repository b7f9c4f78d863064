"""Which modules the API reference documents: every public module of the two packages.

Found by walking the package tree, so a new module gets its page without anyone listing it.
A module or package whose name starts with ``_`` (``__main__`` included) is private.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("coopsim", "mechanisms")


def public_modules(root: Path = ROOT) -> list[tuple[str, ...]]:
    """Dotted module paths (as tuples) of every public module and package, sorted."""
    found = set()
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if not any(p.startswith("_") for p in parts):
                found.add(parts)
    return sorted(found)
