"""Fixtures of the Design page's tests: a private runs and designs folder, and the page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

DESIGN_TIMEOUT = 60


@pytest.fixture
def runs_env(tmp_path, monkeypatch) -> Path:
    """COOPSIM_RUNS and COOPSIM_DESIGNS in the test's own folder; returns the runs folder."""
    monkeypatch.setenv("COOPSIM_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("COOPSIM_DESIGNS", str(tmp_path / "designs"))
    return tmp_path / "runs"


@pytest.fixture
def design_page(runs_env) -> Callable[[str], AppTest]:
    """Opens the Design page (alone, without the app's navigation) on a scenario."""

    def open_on(scenario: str) -> AppTest:
        script = (
            "from coopsim.app import state\n"
            "from coopsim.app.views import design\n"
            "state.init()\n"
            "design.render()\n"
        )
        at = AppTest.from_string(script, default_timeout=DESIGN_TIMEOUT).run()
        if at.selectbox(key="design_source").value != scenario:
            at.selectbox(key="design_source").set_value(scenario).run()
        return at

    return open_on
