"""Compiling and loading coopsim's native C kernels, shared by every world that has them.

Why one module: the economy and the public-goods world each keep a small C source beside their
torch path, and both need the same care to build it: the local C compiler (``$CC``, else
``cc``, ``gcc`` or ``clang``), one build per machine into a cache folder (``$COOPSIM_CACHE``,
else ``~/.cache/coopsim``, under ``native/``), keyed by a hash of the source, compiler, flags
and platform, published with :func:`os.replace` so processes compiling at once never load half
a file, then loaded with :mod:`ctypes` (no network, no torch headers). Where no compiler is
found or compiling fails, one note is printed per library and the torch path runs;
``COOPSIM_NATIVE=0`` turns every library off.

A library is one :class:`NativeLibrary`, made once by the module that holds its C source: the
source, its name, the lazy compile and load, the one-time note, the compile seconds and the
on/off switch live there, so the worlds' modules differ only in their kernels. The functions'
ctypes signatures are read from the source's own prototypes (:func:`prototypes`), and
:func:`args` turns a kernel's arguments (tensors, numbers, None) into what ctypes passes, so
neither is written out again beside the C.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from torch import Tensor

# No fast-math and no fused multiply-add: the kernels must round exactly as torch's float32
# operations do, so both paths give the same bits.
FLAGS = ("-O3", "-shared", "-fPIC", "-ffp-contract=off", "-fno-fast-math")


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


# A C prototype at the start of a line: the return type, the name, the parameters (``static``
# helpers start with ``static`` and are not matched: they are not the library's interface).
_PROTOTYPE = re.compile(r"^(void|int|int64_t|float)\s+(\w+)\s*\(([^)]*)\)\s*\{", re.MULTILINE)
_SCALARS = {"int64_t": ctypes.c_int64, "int": ctypes.c_int, "float": ctypes.c_float}


def prototypes(source: str) -> dict[str, tuple[type | None, list[type]]]:
    """Each exported function of ``source`` with its ctypes return type and argument types.

    Why read them from the C: hand-written ``argtypes`` are a second copy of every prototype,
    and a copy that drifts passes an int64 where the kernel reads a pointer. Pointers of any
    type become ``c_void_p`` (:func:`args` passes tensors' addresses); ``int64_t``, ``int``
    and ``float`` their ctypes types; any other parameter type is refused (ValueError), since
    ctypes would pass it wrongly.
    """
    found: dict[str, tuple[type | None, list[type]]] = {}
    for ret, name, params in _PROTOTYPE.findall(source):
        argtypes: list[type] = []
        for param in " ".join(params.split()).split(","):
            if "*" in param:
                argtypes.append(ctypes.c_void_p)
                continue
            kind = param.replace("const ", "").rsplit(" ", 1)[0].strip()
            if kind not in _SCALARS:
                raise ValueError(f"{name}: parameter {param.strip()!r} has no ctypes type here")
            argtypes.append(_SCALARS[kind])
        found[name] = (None if ret == "void" else _SCALARS[ret], argtypes)
    return found


def args(*values: Tensor | int | float | None) -> list[int | float | None]:
    """A kernel's arguments as ctypes passes them: a tensor as its data address, numbers and
    None (a NULL pointer) as they are; the declared argument types convert each.

    One helper in place of wrapping each argument by hand (``c_void_p(x.data_ptr())``,
    ``c_int64(n)``): a plain int is also cheaper for ctypes to take than a ctypes object.
    """
    return [v.data_ptr() if isinstance(v, Tensor) else v for v in values]


class NativeLibrary:
    """One C library of coopsim's kernels and its state in this process.

    Why a class: every world with kernels needs the same state (tried yet, the loaded library,
    the seconds compiling took, why it is not in use, switched on or off) and asks it the same
    things; one instance per library holds it, and its module exposes the instance's methods
    under the module's names (``library``, ``note``, ``compile_seconds``, ``set_enabled``,
    ``enabled``). Nothing is compiled until :meth:`library` is first called.
    """

    def __init__(self, name: str, source: str, what: str, flags: tuple[str, ...] = FLAGS):
        """``name`` names the cached file, ``what`` the kernels in the note printed where they
        cannot be built ("economy kernels"). The prototypes are read now, so a kernel with a
        parameter type ctypes cannot pass fails at import, not at its first call."""
        self.name, self.source, self.what, self.flags = name, source, what, flags
        self.signatures = prototypes(source)
        self.lib: ctypes.CDLL | None = None
        self.tried = False
        self.compile_s = 0.0  # seconds spent compiling (0 when the cached library was loaded)
        self.why: str | None = None  # why the torch path runs, where it does
        self.on = True  # set_enabled(False) runs the torch path whatever is built

    def library(self) -> ctypes.CDLL | None:
        """The compiled library, built on first use in this process; None where
        ``COOPSIM_NATIVE=0`` or building failed (then a one-time note on stderr says why)."""
        if not self.tried:
            self.tried = True
            if os.environ.get("COOPSIM_NATIVE", "1") == "0":
                self.why = "turned off by COOPSIM_NATIVE=0"
            else:
                try:
                    self.lib, self.compile_s = self._load()
                except (OSError, RuntimeError) as err:
                    self.why = str(err)
                    print(
                        f"coopsim: {self.what} not compiled ({err}); using the torch path, "
                        "which gives the same numbers more slowly",
                        file=sys.stderr,
                    )
        return self.lib

    def _load(self) -> tuple[ctypes.CDLL, float]:
        dll, spent = build(self.name, self.source, compiler(), self.flags)
        for function, (restype, argtypes) in self.signatures.items():
            kernel = getattr(dll, function)
            kernel.restype, kernel.argtypes = restype, argtypes
        return dll, spent

    def require(self) -> ctypes.CDLL:
        """The library for a kernel's wrapper, whose caller has checked :meth:`enabled`;
        RuntimeError (with the note) where it is not built."""
        lib = self.library()
        if lib is None:
            raise RuntimeError(f"{self.what} not built: {self.why}")
        return lib

    def note(self) -> str | None:
        """Why the kernels are not in use (None where they are built and on)."""
        self.library()
        return self.why if self.lib is None else None if self.on else "turned off"

    def compile_seconds(self) -> float:
        """Seconds this process spent compiling the library (0 if loaded from the cache)."""
        return self.compile_s

    def set_enabled(self, on: bool) -> None:
        """Turn the kernels on (where they can be built) or off for this process: for tests
        and benchmarks that compare the native and torch paths."""
        self.on = on

    def enabled(self) -> bool:
        """Whether the kernels run now: switched on, and built."""
        return self.on and self.library() is not None

    def forget(self) -> None:
        """Back to how a new process finds the library (not tried, not loaded, no note; the
        switch kept): for tests of building, the cache and the fallback."""
        self.lib, self.tried, self.compile_s, self.why = None, False, 0.0, None
