"""The two file operations every writer and reader of the package shares: reading TOML, and
writing a file atomically.

One TOML reader, so every file is parsed alike and the Python 3.10 fallback (``tomli``) lives
in one place. One atomic write: the content goes to a temporary sibling with a name no other
writer, thread or process picks, made with the usual permissions (not ``mkstemp``'s 0600), is
flushed and fsynced, then renamed over the target, so a reader sees the old file or the new one,
never a part, even after a power cut. Records, checkpoints, replays and the run store all write
through :func:`atomic_file`. This module imports nothing of coopsim, so every layer may use it.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError

__all__ = [
    "TOMLDecodeError",
    "atomic_file",
    "atomic_write_text",
    "loads_toml",
    "read_toml",
]


def loads_toml(text: str) -> dict[str, Any]:
    """TOML text -> plain data; raises :data:`TOMLDecodeError` on bad syntax."""
    return tomllib.loads(text)


def read_toml(path: str | os.PathLike) -> dict[str, Any]:
    """A TOML file -> plain data; raises :data:`TOMLDecodeError` on bad syntax."""
    return tomllib.loads(Path(path).read_text())


@contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing; on a clean exit it is fsynced and
    renamed over ``path``, on an error removed. ``mode`` is ``"wb"`` or ``"w"``."""
    if mode not in ("wb", "w"):
        raise ValueError(f"mode: got {mode!r}, allowed: 'wb', 'w'")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, mode.replace("w", "x")) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path, "w") as fh:
        fh.write(text)
