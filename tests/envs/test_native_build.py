"""The shared native build: compiled once into the cache, loaded after, clean failures."""

from __future__ import annotations

import pytest

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


def test_load_once_notes_a_failure_once_and_keeps_it(capsys, monkeypatch):
    monkeypatch.delenv("COOPSIM_NATIVE", raising=False)

    class State(native_build.LibraryState):
        pass

    calls = []

    def make():
        calls.append(1)
        raise RuntimeError("no C compiler found")

    assert native_build.load_once(State, "test kernels", make) is None
    assert native_build.load_once(State, "test kernels", make) is None
    assert len(calls) == 1 and State.note == "no C compiler found"
    err = capsys.readouterr().err
    assert err.count("test kernels not compiled") == 1
    assert native_build.note(State, lambda: None) == "no C compiler found"


def test_the_environment_turns_every_library_off(monkeypatch):
    class State(native_build.LibraryState):
        pass

    monkeypatch.setenv("COOPSIM_NATIVE", "0")
    assert native_build.load_once(State, "test kernels", lambda: 1 / 0) is None
    assert "COOPSIM_NATIVE=0" in State.note
