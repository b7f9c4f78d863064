"""What the docs build takes from the code: the modules the API reference documents (every
public module of the two packages) and which copy of each notebook it shows.

Modules are found by walking the package tree, so a new module gets its page without anyone
listing it. A module or package whose name starts with ``_`` (``__main__`` included) is private.
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


def notebook_to_show(source: Path, root: Path = ROOT) -> Path:
    """The executed copy of a notebook where it is newer than the source, else the source."""
    executed = root / "build" / "notebooks" / source.name
    if executed.exists() and executed.stat().st_mtime >= source.stat().st_mtime:
        return executed
    return source
