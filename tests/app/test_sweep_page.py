"""The Sweep page: set up and launch a sweep, watch its progress, view its findings."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from coopsim.record import load_sweep

TIMEOUT = 60


def _page() -> AppTest:
    script = (
        "from coopsim.app import state\n"
        "from coopsim.app.views import sweep\n"
        "state.init()\n"
        "sweep.render()\n"
    )
    return AppTest.from_string(script, default_timeout=TIMEOUT)


def _by_label(elements, label):
    found = [e for e in elements if e.label == label]
    assert found, f"no widget labelled {label!r}; have {[e.label for e in elements]}"
    return found[0]


def test_launch_watch_and_view_a_sweep(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPSIM_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("COOPSIM_DESIGNS", str(tmp_path / "designs"))
    at = _page().run()
    assert not at.exception and at.title[0].value == "Sweep"
    assert _by_label(at.selectbox, "Scenario").value == "public_goods_matching"
    _by_label(at.text_input, "Field = values").set_value("mechanisms.0.rate=0,2")
    _by_label(at.number_input, "Evaluation episodes").set_value(3)
    _by_label(at.text_input, "Sweep name").set_value("My sweep")
    _by_label(at.button, "Launch sweep").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Launched 2 cells x 2 seeds" in at.success[0].value
    folder = tmp_path / "runs" / "sweeps" / "my_sweep"
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        table = folder / "sweep.parquet"
        if table.exists() and len(load_sweep(folder)) == 4:
            break
        time.sleep(0.2)
    at.run()
    assert not at.exception
    assert at.get("progress")  # the watcher's bar
    texts = [m.value for m in at.markdown]
    assert any(
        "The best cell for objective is rate of mechanism 1 (mechanisms.0.rate) = 2" in t
        for t in texts
    )


def test_a_bad_field_is_refused_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPSIM_RUNS", str(tmp_path / "runs"))
    at = _page().run()
    _by_label(at.text_input, "Field = values").set_value("mechanisms.0.rat=1")
    _by_label(at.button, "Launch sweep").click().run()
    assert "mechanisms.0.rat: no such field" in at.error[0].value
    assert not (tmp_path / "runs" / "sweeps").exists()


def test_the_sweep_pages_cell_table_is_rounded_and_in_words():
    from coopsim.app.views.sweep import cell_table
    from tests.analysis.test_sweeps import VALUES, _table

    table = _table(VALUES)
    table["objective"] = table["objective"] + 0.0001  # float noise a float32 sum leaves
    cells = cell_table(table, "objective")
    assert list(cells.columns) == [
        "rate of mechanism 1", "objective, mean [95% interval]", "seeds"
    ]  # fmt: skip
    assert not any("0001" in str(v) for v in cells.to_numpy().ravel())
