"""Safe names and paths: every name a user gives (a design, a scenario, a report) becomes a slug
before it touches the file system, and every path written is checked to stay inside its root.

Why both: a slug alone can be undone by a caller that joins an unchecked piece onto it, and a
containment check alone would refuse names users legitimately type ("My design 2"). Together a
name can never choose where a file lands, only what it is called inside the folder it was
given. This module imports nothing of coopsim, so every layer may use it.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

#: Longest slug; with a timestamp, seed and suffix appended a run folder stays well under the
#: 255 bytes most file systems allow per name.
MAX_SLUG = 80

_UNSAFE = re.compile(r"[^a-z0-9_-]+")


class UnsafePathError(ValueError):
    """A path would land outside the folder it must stay in. The message names no server path."""


def slug(name: object, *, fallback: str = "unnamed", max_length: int = MAX_SLUG) -> str:
    """``name`` reduced to lower-case letters, digits, ``_`` and ``-``; never empty, never hidden.

    Lower case, because names that differ only in case would share one folder on the
    case-insensitive file systems of macOS and Windows and overwrite each other there.

    >>> slug("../../escape/XXX")
    'escape_xxx'
    >>> slug("My design 2")
    'my_design_2'
    >>> slug(".hidden")
    'hidden'
    >>> slug("\\x00/")
    'unnamed'
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    text = _UNSAFE.sub("_", text.lower()).strip("_-")
    text = text[:max_length].strip("_-")
    return text or fallback


def redact(text: str, folders: dict[str, str | os.PathLike]) -> str:
    """``text`` with each folder's absolute path replaced by its label, for messages a browser shows.

    Longest paths first, so a folder inside another is named by its own label.

    >>> redact("/srv/app/runs/x: no such file", {"<runs>": "/srv/app/runs"})
    '<runs>/x: no such file'
    """
    pairs = [(str(Path(p).resolve()), label) for label, p in folders.items()]
    pairs += [(str(Path(p)), label) for label, p in folders.items() if Path(p).is_absolute()]
    for path, label in sorted(set(pairs), key=lambda pair: -len(pair[0])):
        text = text.replace(path, label)
    return text


def inside(root: str | os.PathLike, *parts: str | os.PathLike) -> Path:
    """``root / parts...``, refused with :class:`UnsafePathError` if it resolves outside ``root``.

    Symbolic links are followed, so a link planted inside the root cannot lead out of it either.
    """
    base = Path(root).resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        shown = "/".join(str(p) for p in parts)
        raise UnsafePathError(f"{shown!r} would be written outside its folder; refused")
    return Path(root).joinpath(*parts)
