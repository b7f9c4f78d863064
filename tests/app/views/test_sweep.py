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
    _by_label(at.text_input, "Evaluation episodes").set_value("3")
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


def test_sweep_workers_take_job_slots_and_wait_for_a_free_one(tmp_path, monkeypatch):
    """In a 2-slot app with two jobs running, a sweep waits; when one job ends it runs with the
    one free slot, never beside both jobs, and never with more workers than the limit."""
    import subprocess
    import sys

    from coopsim.app import jobs, slots
    from coopsim.app.views import sweep

    monkeypatch.setenv("COOPSIM_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("COOPSIM_MAX_JOBS", "2")
    runs = tmp_path / "runs"
    holders = [
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]) for _ in range(2)
    ]
    try:
        for proc in holders:
            job = jobs.prepare("", runs, seeds=[0])
            jobs.write_status(
                job.path, state="running", pid=proc.pid, pid_start=slots.process_start(proc.pid)
            )
        at = _page().run()
        workers = _by_label(at.text_input, "Workers")
        assert "limit of 2 busy processes" in workers.help and "Allowed: 1 to 2" in workers.help
        _by_label(at.text_input, "Field = values").set_value("mechanisms.0.rate=0,2")
        _by_label(at.text_input, "Evaluation episodes").set_value("3")
        _by_label(at.text_input, "Seeds").set_value("1")
        workers.set_value("3").run()
        assert "got 3, allowed: 1 to 2" in at.error[0].value  # never more workers than slots
        assert _by_label(at.button, "Launch sweep").disabled
        _by_label(at.text_input, "Workers").set_value("2").run()
        _by_label(at.text_input, "Sweep name").set_value("slots")
        _by_label(at.button, "Launch sweep").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        folder = str(runs / "sweeps" / "slots")
        time.sleep(3 * sweep.WAIT_POLL_S)
        status = sweep._status(folder)
        assert status["waiting"] and status["busy"] == 2 and status.get("done", 0) == 0
        at.run()
        assert any("Waiting for a free slot: 2 of 2" in c.value for c in at.caption)

        holders[0].kill()
        holders[0].wait()
        deadline = time.monotonic() + TIMEOUT
        while not sweep._status(folder).get("finished") and time.monotonic() < deadline:
            time.sleep(0.2)
        status = sweep._status(folder)
        assert status.get("finished") and not status.get("error"), status
        assert status["workers"] == 1 and status["asked"] == 2  # one slot was free, not two
        assert slots.list_leases(runs) == []  # released when it ended
        at.run()
        assert any("Runs with 1 worker of the 2 asked for" in c.value for c in at.caption)
    finally:
        for proc in holders:
            proc.kill()
            proc.wait()


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
