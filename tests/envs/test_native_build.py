"""The shared native build: compiled once into the cache, loaded after, clean failures."""

from __future__ import annotations

import ctypes

import pytest
import torch

from coopsim.envs import native_build

SOURCE = "int twice(int x) { return 2 * x; }\n"


@pytest.fixture
def cc():
    name = native_build.compiler()
    if name is None:
        pytest.skip("no C compiler on this machine")
    return name


def test_compiled_once_then_loaded_from_the_cache(cc, tmp_path, monkeypatch):
    monkeypatch.setenv("COOPSIM_CACHE", str(tmp_path))
    lib, spent = native_build.build("twice", SOURCE, cc)
    assert lib.twice(21) == 42 and spent > 0
    assert [p.name.startswith("twice_") for p in (tmp_path / "native").glob("*.so")] == [True]
    again, spent = native_build.build("twice", SOURCE, cc)
    assert again.twice(4) == 8 and spent == 0.0
    # another source is another file: a changed kernel is never served from an old build
    native_build.build("twice", SOURCE + "int thrice(int x) { return 3 * x; }\n", cc)
    assert len(list((tmp_path / "native").glob("twice_*.so"))) == 2


def test_a_failing_compile_says_why(cc, tmp_path, monkeypatch):
    monkeypatch.setenv("COOPSIM_CACHE", str(tmp_path))
    with pytest.raises(RuntimeError, match="failed"):
        native_build.build("broken", "int f( {", cc)
    with pytest.raises(RuntimeError, match="no C compiler"):
        native_build.build("twice", SOURCE, None)
    assert not list((tmp_path / "native").glob("*.so"))  # nothing half-built is published


# A kernel with every parameter kind the prototypes may have, and a helper that is not exported.
SCALE = r"""
#include <stdint.h>
static float twice(float v) { return 2.0f * v; }
int64_t scale(int64_t n, const float *x, float k, int doubled, float *out)
{
    for (int64_t i = 0; i < n; i++) out[i] = doubled ? twice(x[i] * k) : x[i] * k;
    return n;
}
"""


def test_prototypes_are_read_from_the_source():
    c = ctypes
    assert native_build.prototypes(SCALE) == {
        "scale": (c.c_int64, [c.c_int64, c.c_void_p, c.c_float, c.c_int, c.c_void_p])
    }
    assert native_build.prototypes("void f(\n    const int64_t *a,\n    int64_t b) {}") == {
        "f": (None, [c.c_void_p, c.c_int64])
    }
    with pytest.raises(ValueError, match="'double x'"):
        native_build.prototypes("void g(double x) { }")
    with pytest.raises(ValueError, match="'double x'"):
        native_build.NativeLibrary("g", "void g(double x) { }", "test kernels")  # at import


def test_args_pass_tensors_by_address_and_the_rest_as_they_are():
    x = torch.arange(6.0).view(2, 3)
    assert native_build.args(3, x, None, 1.5, True, x[1]) == [
        3,
        x.data_ptr(),
        None,
        1.5,
        True,
        x.data_ptr() + 3 * 4,
    ]


def test_a_library_is_built_on_first_use_switched_and_forgotten(cc, tmp_path, monkeypatch):
    monkeypatch.setenv("COOPSIM_CACHE", str(tmp_path))
    monkeypatch.delenv("COOPSIM_NATIVE", raising=False)
    lib = native_build.NativeLibrary("scale", SCALE, "test kernels")
    assert not list(tmp_path.glob("native/*.so"))  # nothing compiled at construction
    assert lib.enabled() and lib.note() is None and lib.compile_seconds() > 0
    x, out = torch.tensor([1.0, -2.0, 0.1]), torch.empty(3)
    assert lib.require().scale(*native_build.args(3, x, 3, True, out)) == 3
    assert torch.equal(out, x * 3 * 2)  # the float32 product, as torch rounds it
    lib.set_enabled(False)
    assert not lib.enabled() and lib.note() == "turned off" and lib.library() is not None
    lib.set_enabled(True)
    lib.forget()
    assert not lib.tried and lib.lib is None
    assert lib.enabled() and lib.compile_seconds() == 0.0  # loaded from the cache this time


def test_a_failure_is_noted_once_and_kept(capsys, monkeypatch):
    monkeypatch.delenv("COOPSIM_NATIVE", raising=False)
    calls = []
    monkeypatch.setattr(native_build, "compiler", lambda: calls.append(1))  # finds none
    lib = native_build.NativeLibrary("scale", SCALE, "test kernels")
    assert lib.library() is None and lib.library() is None and not lib.enabled()
    assert len(calls) == 1 and lib.note() == "no C compiler found (looked for $CC, cc, gcc, clang)"
    assert capsys.readouterr().err.count("test kernels not compiled") == 1
    with pytest.raises(RuntimeError, match="test kernels not built: no C compiler"):
        lib.require()


def test_the_environment_turns_every_library_off(monkeypatch):
    monkeypatch.setenv("COOPSIM_NATIVE", "0")
    monkeypatch.setattr(native_build, "compiler", lambda: pytest.fail("nothing is compiled"))
    lib = native_build.NativeLibrary("scale", SCALE, "test kernels")
    assert lib.library() is None and not lib.enabled()
    assert "COOPSIM_NATIVE=0" in lib.note()
