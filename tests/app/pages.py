"""One app page drawn outside the menu, as the app draws it, and its widgets by label: shared
by the page tests."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def page_test(name: str, timeout: int) -> AppTest:
    """The page ``coopsim.app.views.<name>`` in an AppTest, its state initialised."""
    script = (
        "from coopsim.app import state\n"
        f"from coopsim.app.views import {name}\n"
        "state.init()\n"
        f"{name}.render()\n"
    )
    return AppTest.from_string(script, default_timeout=timeout)


def by_label(elements, label: str):
    """The first of ``elements`` labelled ``label``; fails naming the labels there are."""
    found = [e for e in elements if e.label == label]
    assert found, f"no widget labelled {label!r}; have {[e.label for e in elements]}"
    return found[0]
