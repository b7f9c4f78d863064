"""Compiling and loading coopsim's native C kernels, shared by every world that has them.

Why one module: the economy and the public-goods world each keep a small C source beside their
torch path, and both need the same care to build it: the local C compiler (``$CC``, else
``cc``, ``gcc`` or ``clang``), one build per machine into a cache folder (``$COOPSIM_CACHE``,
else ``~/.cache/coopsim``, under ``native/``), keyed by a hash of the source, compiler, flags
and platform, published with :func:`os.replace` so processes compiling at once never load half
a file, then loaded with :mod:`ctypes` (no network, no torch headers). Where no compiler is
found or compiling fails, one note is printed per library and the torch path runs;
``COOPSIM_NATIVE=0`` turns every library off.

A library's state lives in a small class with class attributes (``lib``, ``tried``,
``compile_s``, ``note``, ``enabled``), owned by the module that declares the kernels, so its
tests can swap it for a fresh one; :func:`load_once` fills it.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# No fast-math and no fused multiply-add: the kernels must round exactly as torch's float32
# operations do, so both paths give the same bits.
FLAGS = ("-O3", "-shared", "-fPIC", "-ffp-contract=off", "-fno-fast-math")


class LibraryState:
    """One native library's state in this process (subclass it per library)."""

    lib: ctypes.CDLL | None = None
    tried = False
    compile_s = 0.0  # seconds spent compiling (0 when the cached library was loaded)
    note: str | None = None  # why the torch path runs, where it does
    enabled = True  # set_enabled(False) runs the torch path whatever is built


def compiler() -> str | None:
    """The C compiler to use: ``$CC`` where set and found, else ``cc``, ``gcc``, ``clang``."""
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    return None


def cache_dir() -> Path:
    """Where compiled libraries are kept: ``$COOPSIM_CACHE/native`` or ``~/.cache/coopsim``."""
    root = os.environ.get("COOPSIM_CACHE") or Path.home() / ".cache" / "coopsim"
    return Path(root) / "native"


def build(
    name: str, source: str, cc: str | None, flags: tuple[str, ...] = FLAGS
) -> tuple[ctypes.CDLL, float]:
    """Compile ``source`` into ``<cache>/<name>_<hash>.so`` unless it is there, and load it.

    Returns the library and the seconds spent compiling (0.0 when it came from the cache).
    Raises RuntimeError where there is no compiler or it fails, OSError where loading does.
    """
    if cc is None:
        raise RuntimeError("no C compiler found (looked for $CC, cc, gcc, clang)")
    key = hashlib.sha256(
        "\0".join([source, cc, *flags, sys.platform, os.uname().machine]).encode()
    ).hexdigest()[:16]
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir()) / "coopsim-native"
        folder.mkdir(parents=True, exist_ok=True)
    lib = folder / f"{name}_{key}.so"
    spent = 0.0
    if not lib.exists():
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            src = Path(tmp) / f"{name}.c"
            src.write_text(source)
            built = Path(tmp) / f"{name}.so"
            done = subprocess.run(
                [cc, *flags, str(src), "-o", str(built)], capture_output=True, text=True
            )
            if done.returncode != 0:
                raise RuntimeError(f"{cc} failed: {done.stderr.strip()[:500]}")
            os.replace(built, lib)  # atomic: processes compiling at once never see half a file
        spent = time.perf_counter() - start
    return ctypes.CDLL(str(lib)), spent


def load_once(
    state: type[LibraryState], what: str, make: Callable[[], tuple[ctypes.CDLL, float]]
) -> ctypes.CDLL | None:
    """The library ``make`` builds, tried once per ``state``; None where ``COOPSIM_NATIVE=0``
    or building failed (then a one-time note on stderr names ``what`` and says why)."""
    if not state.tried:
        state.tried = True
        if os.environ.get("COOPSIM_NATIVE", "1") == "0":
            state.note = "turned off by COOPSIM_NATIVE=0"
        else:
            try:
                state.lib, state.compile_s = make()
            except (OSError, RuntimeError) as err:
                state.note = str(err)
                print(
                    f"coopsim: {what} not compiled ({err}); using the torch path, "
                    "which gives the same numbers more slowly",
                    file=sys.stderr,
                )
    return state.lib


def note(state: type[LibraryState], library: Callable[[], ctypes.CDLL | None]) -> str | None:
    """Why a library's kernels are not in use (None where they are built and on)."""
    library()
    return state.note if state.lib is None else None if state.enabled else "turned off"


def ptr(x) -> ctypes.c_void_p:
    """A tensor's data pointer for a ctypes call."""
    return ctypes.c_void_p(x.data_ptr())
