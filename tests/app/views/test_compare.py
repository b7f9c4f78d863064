"""The Compare page explains a zero-width interval with the CLI's mark and reason."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from coopsim import scenario as sc
from coopsim.analysis import tables
from coopsim.app.views.compare import BY_RUN, compare_table
from coopsim.measures import MEASURES
from coopsim.record import load_run
from coopsim.runner import run_scenario

#: The Compare page alone, as the app renders it.
PAGE = (
    "from coopsim.app import state\n"
    "from coopsim.app.views import compare\n"
    "state.init()\n"
    "compare.render()\n"
)


def test_zero_width_intervals_are_marked_with_the_clis_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPSIM_RUNS", str(tmp_path / "runs"))
    # Scripted agents in identical worlds: every episode gives the same contribution rate.
    path = run_scenario(sc.load("public_goods"), seed=0, out=tmp_path / "runs", episodes=4)
    run = load_run(path)
    table, notes = compare_table([run])
    cli_notes = tables.zero_width_notes(tables.compare([run]))
    assert notes == cli_notes and notes
    assert any("every unit gave the same value" in note for note in notes)
    cell = table.set_index("measure").loc[MEASURES["contribution_rate"].label, run.name]
    assert cell.endswith(" *"), cell

    at = AppTest.from_string(PAGE, default_timeout=60).run()
    assert not at.exception
    assert at.radio[0].value.startswith("rules")  # pooled: the run-by-run table is collapsed
    # the note sits with the table whose '*' it explains, inside its expander, not elsewhere
    by_run = next(e for e in at.expander if e.label == BY_RUN)
    assert by_run.table and str(by_run.table[0].value.iloc[0, 0]).strip()
    inside = [c.value for c in by_run.caption]
    assert any(c.startswith("Zero-width intervals: ") and notes[0] in c for c in inside), inside
    outside = [c.value for c in at.caption if c.value.startswith("Zero-width intervals: ")]
    assert outside == inside  # the expander's is the page's only one

    at.radio[0].set_value("runs one by one").run()  # the table is on the page: the note too
    assert not at.exception and not any(e.label == BY_RUN for e in at.expander)
    notes_shown = [c for c in at.caption if c.value.startswith("Zero-width intervals: ")]
    assert len(notes_shown) == 1


def test_compare_opens_on_the_latest_demos_rules_pooled_over_seeds(tmp_path, monkeypatch):
    from coopsim.analysis.rules import group_rules
    from coopsim.app.views.compare import default_runs, rules_frame
    from tests.demo_runs import tiny_demo

    runs_dir = tmp_path / "runs"
    monkeypatch.setenv("COOPSIM_RUNS", str(runs_dir))
    run_scenario(sc.load("public_goods"), seed=0, out=runs_dir, episodes=2)  # an older run
    paths = tiny_demo(runs_dir)
    demo = {p for by_seed in paths.values() for p in by_seed.values()}
    newest_first = sorted(
        runs_dir.iterdir(), key=lambda p: (p / "summary.json").stat().st_mtime, reverse=True
    )
    assert set(default_runs(newest_first)) == demo
    runs = [load_run(p) for p in demo]
    frame = rules_frame(runs)
    labels = sorted(rule.label for rule in group_rules(runs))
    assert sorted(frame["rule"]) == labels and len(frame) == 5  # one row per rule
    assert set(frame["seeds"]) == {"2"}
    assert list(frame.columns[:3]) == ["rule", "seeds", "net welfare"]

    at = AppTest.from_string(PAGE, default_timeout=120).run()
    assert not at.exception
    assert sorted(at.multiselect[0].value) == sorted(p.name for p in demo)
    shown = at.table[0].value
    assert sorted(shown.index) == labels


def test_a_run_folder_holding_nan_is_named_not_drawn_as_a_value(tmp_path, monkeypatch):
    """A folder written before non-finite measures were refused: the page says which run has no
    value and renders every tab without a traceback."""
    import json

    monkeypatch.setenv("COOPSIM_RUNS", str(tmp_path / "runs"))
    good = run_scenario(sc.load("public_goods"), seed=0, out=tmp_path / "runs", episodes=2)
    broken = run_scenario(sc.load("public_goods"), seed=1, out=tmp_path / "runs", episodes=2)
    summary = json.loads((broken / "summary.json").read_text())
    summary["metrics"]["productivity"]["mean"] = float("nan")
    (broken / "summary.json").write_text(json.dumps(summary))  # a NaN literal, as old runs held
    at = AppTest.from_string(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning]
    assert any(w.startswith(f"{broken.name}: no values (productivity") for w in warnings), warnings
    assert not any(good.name in w for w in warnings)
