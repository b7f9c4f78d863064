"""The Compare page opens on the latest demo's or sweep's rules, whichever finished last, and
shows a stress test of the chosen rules in a tab of its own."""

from __future__ import annotations

import os
import time
from pathlib import Path

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


def test_rules_mode_draws_one_series_per_rule_its_seeds_the_units(tmp_path):
    """Rules pooled: the figures draw one series per rule (its label in the legend, one colour
    each, in one panel: ten runs made two panels of five, colours starting over in each), its
    point the table's mean and interval over seeds, its band over the seeds."""
    import numpy as np
    import pytest

    from coopsim import figures
    from coopsim.analysis.rules import SEED_UNIT, group_rules, rules_table
    from coopsim.app.views.compare import figure_series
    from coopsim.figures.outcomes import over_units
    from coopsim.figures.style import series_color
    from coopsim.intervals import t_interval
    from coopsim.record import load_run
    from tests.demo_runs import tiny_demo

    paths = tiny_demo(tmp_path / "runs")
    runs = [load_run(p) for by_seed in paths.values() for p in by_seed.values()]
    names = [r.name for r in runs]
    assert figure_series(runs, names, None, pooled=False) == (runs, names)
    drawn, labels = figure_series(runs, names, None, pooled=True)
    assert labels == [rule.label for rule in group_rules(runs)] and len(labels) == 5
    table = rules_table(runs, ["equality", "productivity"]).set_index(["rule", "measure"])
    for label, rule in zip(labels, drawn):
        assert sorted(set(rule.episodes[SEED_UNIT])) == [0, 1]
        for m in ("equality", "productivity"):  # the point is the table's cell
            got, want = rule.summary["metrics"][m], table.loc[(label, m)]
            for part in ("mean", "ci_low", "ci_high"):
                assert got[part] == pytest.approx(want[part]), (label, m, part)

    for draw in (
        figures.equality_vs_productivity,
        figures.contributions_per_round,
        figures.lorenz_curves,
    ):
        fig = draw(drawn)
        (ax,) = fig.get_axes()  # one panel
        legend = fig.legends[0] if fig.legends else ax.get_legend()
        shown = [t.get_text() for t in legend.get_texts()]
        # the rule's label, the Lorenz curves' with its Gini after it
        named = [next((k for k in labels if t.startswith(k)), None) for t in shown]
        assert sorted(filter(None, named)) == sorted(labels), (draw.__name__, shown)
        colours = {}
        for artist in [*ax.get_lines(), *ax.containers]:
            label = next((k for k in labels if str(artist.get_label()).startswith(k)), None)
            if label is not None:
                lines = artist.lines[0] if hasattr(artist, "lines") else artist
                colours[label] = lines.get_color()
        assert colours == {label: series_color(k) for k, label in enumerate(labels)}

    # the contributions' band: over the two seeds' means, not over pooled episodes
    rule = drawn[1]
    per_episode = rule.episodes.groupby(["round", "episode"])["contribution"].mean()
    by_seed = over_units(per_episode.unstack("round"), rule)  # [seeds, R]
    assert by_seed.shape[0] == 2
    seed_means = [
        run.episodes.groupby(["round", "episode"])["contribution"].mean().unstack("round")
        for run in group_rules(runs)[1].runs
    ]
    expected = np.array([m.mean().to_numpy() for m in seed_means])
    np.testing.assert_allclose(by_seed.to_numpy(), expected)
    band = t_interval(expected[:, 0])
    assert band.n == 2


def test_the_rules_table_lists_the_demos_rules_as_the_demo_prints_them(tmp_path, monkeypatch):
    """Runs written in a shuffled order (the page lists runs newest first) still make a rules
    table in the order ``coopsim demo`` prints its table, and a run added later leaves it be."""
    from coopsim.analysis.demo_findings import by_rule
    from coopsim.experiments import demo

    runs_dir = tmp_path / "runs"
    monkeypatch.setenv("COOPSIM_RUNS", str(runs_dir))
    arms = {label: demo.Arm(a.scenario, 1, a.planner) for label, a in demo.ARMS.items()}
    written = ["peer punishment", "no mechanism", "planner-designed matching"]
    written += ["sanctioning institution", "matching funds"]
    assert sorted(written) == sorted(arms)  # every arm, none in the demo's order
    paths: dict[str, dict[int, Path]] = {}
    for age, label in enumerate(written):
        path = demo.run_arm(arms[label], 0, str(runs_dir))
        _touch_older(path, 100 - age)  # finished in the order written, the last newest
        paths[label] = {0: path}
    printed = list(by_rule({label: paths[label] for label in arms}))  # the demo's table rows

    at = AppTest.from_string(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    assert len(at.multiselect[0].value) == len(arms)
    assert list(at.table[0].value.index) == printed

    demo.run_arm(arms["matching funds"], 1, str(runs_dir))  # a newer run of one rule
    at = AppTest.from_string(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    assert len(at.multiselect[0].value) == len(arms) + 1
    assert list(at.table[0].value.index) == printed
