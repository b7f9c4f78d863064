"""Set-up shared by the worlds' tests."""

from __future__ import annotations

import pytest

from coopsim.envs.native_build import NativeLibrary


@pytest.fixture
def unbuilt(monkeypatch):
    """``unbuilt(library)``: a :class:`NativeLibrary` as a new process finds it (not tried,
    not loaded), put back as it was after the test, so tests of building and of the fallback
    leave the kernels loaded for the rest of the run."""

    def forget(library: NativeLibrary) -> NativeLibrary:
        for name, value in vars(library).items():
            monkeypatch.setattr(library, name, value)
        library.forget()
        return library

    return forget
