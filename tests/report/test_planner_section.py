"""The report's planner section: present only for runs with a planner, with the figure of what
it chose and a table of where it ended beside the yardstick."""

from __future__ import annotations

import math

import pytest

from coopsim import scenario as sc
from coopsim.analysis.planner_log import planner_log
from coopsim.record import load_run
from coopsim.report import FigureBlock, Table, build_content, render_html
from coopsim.report.planner_section import EVALUATED, SAMPLED, planner_sections
from coopsim.runner import run_scenario


@pytest.fixture(scope="module")
def planner_run(tmp_path_factory):
    data = sc.load("public_goods_matching_planner").to_dict()
    data["training"].update(iterations=2, num_worlds=4)
    out = tmp_path_factory.mktemp("runs")
    return run_scenario(sc.from_dict(data), seed=0, out=out, episodes=2)


def keys(report) -> list[str]:
    return [s.key for s in report.sections]


def test_a_planner_run_gets_its_section_after_the_figures(planner_run, run_dirs):
    report = build_content([planner_run, *run_dirs])
    order = keys(report)
    assert order.index("planner") == order.index("figures") + 1
    (section,) = [s for s in report.sections if s.key == "planner"]
    figures = [b for b in section.blocks if isinstance(b, FigureBlock)]
    assert [f.key for f in figures] == [f"fig-planner-{planner_run.name}"]  # one planner run
    controls = figures[0].figure.axes[0]
    assert "matching.rate; yardstick 1.75" in [line.get_label() for line in controls.get_lines()]
    (table,) = [b for b in section.blocks if isinstance(b, Table)]
    frame = table.frame.set_index("control")
    assert list(frame.index) == ["matching.rate", "objective (per planner period)"]
    assert frame.loc["matching.rate", "yardstick"] == pytest.approx(1.75)
    assert frame.loc["objective (per planner period)", "yardstick"] == pytest.approx(1000.0)
    assert 0 <= frame.loc["matching.rate", SAMPLED] <= 4
    assert "optimal_mechanism" in table.caption
    html = render_html(report)
    assert 'id="planner"' in html and "What the planner chose" in html


def test_runs_without_a_planner_have_no_planner_section(run_dirs):
    # run_dirs[0] has a training log with rate_<k> columns, as a Saez schedule's would be,
    # but no planner: nothing was chosen by one.
    assert "planner" not in keys(build_content(run_dirs))


def _end_table(run) -> Table:
    (section,) = planner_sections([run], ["x"])
    (table,) = [b for b in section.blocks if isinstance(b, Table)]
    return table


def test_the_table_says_which_number_is_sampled_in_training_and_which_was_evaluated(planner_run):
    """The last iteration's mean of sampled choices (2.14, say) is not the rule the evaluation
    played (its most likely value, 1): each column holds what its name says."""
    run = load_run(planner_run)
    log = planner_log(run)
    # this scenario's evaluation replays the planner period by period
    assert run.summary["planner"]["mode"] == "replay"
    table = _end_table(run)
    frame = table.frame.set_index("control")
    assert frame.loc["matching.rate", SAMPLED] == log.controls["matching.rate"].iloc[-1]
    replayed = run.summary["planner"]["mean_controls"]
    assert frame.loc["matching.rate", EVALUATED] == replayed[0]
    assert "mean of the values it sampled" in table.caption and "replayed" in table.caption
    held = run.summary["training"]["planner_schedule"]
    assert ("the brief says it chose" in table.caption) == (replayed == held)
    # held fixed: the most likely value per control, which the brief's label names
    del run.summary["planner"]
    table = _end_table(run)
    assert table.frame.set_index("control").loc["matching.rate", EVALUATED] == held[0]
    assert "held fixed" in table.caption and "the value the brief says it chose" in table.caption
    # an old run that did not record it: an empty cell, and the caption says so
    del run.summary["training"]["planner_schedule"]
    table = _end_table(run)
    assert math.isnan(table.frame.set_index("control").loc["matching.rate", EVALUATED])
    assert "not recorded by this run" in table.caption
