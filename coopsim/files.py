"""The two file operations every writer and reader of the package shares: reading TOML, and
writing a file atomically.

One TOML reader, so every file is parsed alike and the Python 3.10 fallback (``tomli``) lives
in one place. One atomic write: the content goes to a temporary sibling with a name no other
writer, thread or process picks, made with the usual permissions (not ``mkstemp``'s 0600), is
flushed and fsynced, then renamed over the target, so a reader sees the old file or the new one,
never a part, even after a power cut. Records, checkpoints, replays, the staging folder and
reports all write through :func:`atomic_file` (or :func:`atomic_new_file`, where a file must
take a fresh name rather than replace one). This module imports nothing of coopsim, so every
layer may use it.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError

__all__ = [
    "MAX_SUFFIX",
    "NewFile",
    "TOMLDecodeError",
    "atomic_file",
    "atomic_new_file",
    "atomic_write_text",
    "link_to_free_name",
    "loads_toml",
    "read_toml",
]


def loads_toml(text: str) -> dict[str, Any]:
    """TOML text -> plain data; raises :data:`TOMLDecodeError` on bad syntax."""
    return tomllib.loads(text)


def read_toml(path: str | os.PathLike) -> dict[str, Any]:
    """A TOML file -> plain data; raises :data:`TOMLDecodeError` on bad syntax."""
    return tomllib.loads(Path(path).read_text())


#: How many names a new file tries (``f.html``, ``f-2.html``, ...) before giving up.
MAX_SUFFIX = 10_000


@contextmanager
def _fsynced_sibling(path: Path, mode: str, publish: Callable[[Path], None]) -> Iterator[IO[Any]]:
    """Write a temporary sibling of ``path``; on a clean exit fsync it and ``publish`` it (which
    names it), on an error remove it."""
    if mode not in ("wb", "w"):
        raise ValueError(f"mode: got {mode!r}, allowed: 'wb', 'w'")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, mode.replace("w", "x"), encoding=None if "b" in mode else "utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        publish(tmp)
    finally:
        tmp.unlink(missing_ok=True)  # gone once renamed; a leftover after a link or an error


@contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing; on a clean exit it is fsynced and
    renamed over ``path``, on an error removed. ``mode`` is ``"wb"`` or ``"w"``."""
    path = Path(path)
    with _fsynced_sibling(path, mode, lambda tmp: os.replace(tmp, path)) as fh:
        yield fh


@dataclass
class NewFile:
    """A file being written by :func:`atomic_new_file`: ``file`` to write to, and ``path``, the
    name it was published under, once the block has ended."""

    file: IO[Any]
    path: Path | None = None


@contextmanager
def atomic_new_file(path: str | os.PathLike, mode: str = "wb") -> Iterator[NewFile]:
    """Like :func:`atomic_file`, but never replacing a file: the finished file takes ``path``'s
    name if it is free, else the first free one of ``<stem>-2<suffix>``, ``<stem>-3<suffix>``...

    It is published with a hard link, which creates a name only if nobody holds it, in one
    step: two writers (threads or processes) that pick the same name at the same instant each
    get their own, where a rename would silently replace the other's file.
    """
    path = Path(path)
    new: NewFile | None = None

    def publish(tmp: Path) -> None:
        assert new is not None
        new.path = link_to_free_name(tmp, path)

    with _fsynced_sibling(path, mode, publish) as fh:
        new = NewFile(fh)
        yield new


def link_to_free_name(tmp: Path, path: Path) -> Path:
    """Hard-link the finished file ``tmp`` to ``path`` or, where that name is taken, to the
    first free ``<stem>-<n><suffix>`` (n = 2, 3, ...); return the name it got. ``tmp`` stays
    for the caller to remove."""
    for n in range(1, MAX_SUFFIX + 1):
        final = path if n == 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")
        try:
            os.link(tmp, final)
        except FileExistsError:
            continue
        return final
    raise FileExistsError(f"{path.parent}: {MAX_SUFFIX} files named {path.stem}* already exist")


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path, "w") as fh:
        fh.write(text)
