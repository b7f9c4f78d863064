"""The Compare page opens on the latest demo's or sweep's rules, whichever finished last, and
shows a stress test of the chosen rules in a tab of its own."""

from __future__ import annotations

import os
import time

from streamlit.testing.v1 import AppTest

from coopsim import scenario as sc
from coopsim.runner import run_scenario
from coopsim.sweeps import SweepSpec, run_sweep

#: The Compare page alone, as the app renders it.
PAGE = (
    "from coopsim.app import state\n"
    "from coopsim.app.views import compare\n"
    "state.init()\n"
    "compare.render()\n"
)


def _touch_older(path, seconds: float) -> None:
    """Make a run look finished ``seconds`` ago (its summary's mtime is its finish time)."""
    stamp = time.time() - seconds
    os.utime(path / "summary.json", (stamp, stamp))


def test_a_sweep_newer_than_any_run_opens_as_one_rule_per_cell(tmp_path, monkeypatch):
    from coopsim.app.views.compare import available_runs, default_runs, rules_frame, sweep_cells
    from coopsim.record import load_run

    runs_dir = tmp_path / "runs"
    monkeypatch.setenv("COOPSIM_RUNS", str(runs_dir))
    older = run_scenario(sc.load("public_goods"), seed=0, out=runs_dir, episodes=2)
    _touch_older(older, 60)
    spec = SweepSpec(grid={"mechanisms.0.rate": [0.5, 1.5]}, seeds=[0, 1])
    run_sweep(sc.load("public_goods_matching"), spec, runs_dir / "sweeps" / "rates", episodes=3)

    cells = sweep_cells()
    assert len(cells) == 4  # two cells x two seeds, each run named with its cell
    assert sorted(set(cells.values())) == ["matching 0.5:1", "matching 1.5:1"]
    paths = available_runs(cells)
    assert older in paths  # every run stays selectable one by one
    opened = default_runs(paths, cells)
    assert sorted(map(str, opened)) == sorted(cells)

    frame = rules_frame([load_run(p) for p in opened], cells=cells)
    assert sorted(frame["rule"]) == ["matching 0.5:1", "matching 1.5:1"]
    assert set(frame["seeds"]) == {"2"}  # one row per cell, pooled over its seeds

    at = AppTest.from_string(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    assert len(at.multiselect[0].value) == 4
    assert sorted(at.table[0].value.index) == ["matching 0.5:1", "matching 1.5:1"]

    # a run finished after the sweep that is not a demo's: the newest runs again
    newer = run_scenario(sc.load("public_goods"), seed=1, out=runs_dir, episodes=2)
    assert newer in default_runs(available_runs(cells), cells)


def test_the_latest_demo_opens_when_it_finished_after_the_sweep(tmp_path, monkeypatch):
    from coopsim.app.views.compare import available_runs, default_runs, sweep_cells
    from tests.demo_runs import tiny_demo

    runs_dir = tmp_path / "runs"
    monkeypatch.setenv("COOPSIM_RUNS", str(runs_dir))
    spec = SweepSpec(grid={"mechanisms.0.rate": [0.5, 1.5]}, seeds=[0])
    run_sweep(sc.load("public_goods_matching"), spec, runs_dir / "sweeps" / "rates", episodes=2)
    for run in (runs_dir / "sweeps").rglob("summary.json"):
        _touch_older(run.parent, 60)
    demo = {p for by_seed in tiny_demo(runs_dir, seeds=(0,)).values() for p in by_seed.values()}
    cells = sweep_cells()
    assert set(default_runs(available_runs(cells), cells)) == demo
