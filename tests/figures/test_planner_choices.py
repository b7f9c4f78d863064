"""The figure of what a planner chose over training: a line per control, named; the
yardstick dashed beside it; the objective with the yardstick's where they share a scale."""

from __future__ import annotations

import matplotlib.colors as mcolors
import pytest

from coopsim import scenario as sc
from coopsim.analysis import tax_schedules
from coopsim.analysis.planner_log import planner_log
from coopsim.figures import EmptyFigure, mechanism_parameters
from coopsim.figures.planner import planner_choices
from coopsim.record import load_run
from coopsim.runner import run_scenario


def tiny_run(name: str, out, world: dict | None = None, **planner) -> object:
    """A few training iterations of a ready planner scenario."""
    data = sc.load(name).to_dict()
    data["world"].update(world or {})
    data["training"].update(iterations=3, num_worlds=4)
    data["planner"].update(phase1_iterations=1, anneal_iterations=0, **planner)
    return load_run(run_scenario(sc.from_dict(data), seed=0, out=out, episodes=2))


@pytest.fixture(scope="module")
def matching_run(tmp_path_factory):
    return tiny_run("public_goods_matching_planner", tmp_path_factory.mktemp("runs"))


def lines(ax) -> dict[str, object]:
    return {line.get_label(): line for line in ax.get_lines()}


def test_planner_log_names_the_columns_and_skips_phase_one(matching_run):
    log = planner_log(matching_run)
    assert log.labels == ["matching.rate"]
    assert log.iteration.tolist() == [1, 2]  # iteration 0: agents alone, nothing chosen
    assert log.controls["matching.rate"].between(0, 4).all()
    assert len(log.objective) == 2


def test_a_matching_planners_choices_are_not_read_as_tax_rates(matching_run):
    assert tax_schedules(matching_run).empty
    titles = [ax.get_title() for ax in mechanism_parameters(matching_run).axes]
    assert "Tax schedule" not in titles


def test_a_line_per_control_with_the_yardstick_dashed_beside_it(matching_run):
    fig = planner_choices(matching_run)
    controls, objective = fig.axes
    chosen = lines(controls)["matching.rate; yardstick 1.75"]
    assert list(chosen.get_xdata()) == [1, 2]
    assert list(chosen.get_ydata()) == pytest.approx(
        planner_log(matching_run).controls["matching.rate"].tolist()
    )
    (dashed,) = [line for line in controls.get_lines() if line.get_linestyle() == "--"]
    assert list(dashed.get_ydata()) == [1.75, 1.75]
    assert mcolors.same_color(dashed.get_color(), chosen.get_color())
    # One rule per episode (period = rounds): the objectives share a scale, both drawn.
    assert set(lines(objective)) == {"planner (mean over its decisions)", "yardstick 1000"}
    assert controls.get_xlabel() == "training iteration"
    assert "optimal_mechanism" in fig.get_supxlabel()


def test_a_tax_planner_gets_a_line_per_bracket_named_by_its_income(tmp_path):
    run = tiny_run("tax_one_step_ai_planner", tmp_path)
    controls = planner_choices(run).axes[0]
    names = [n for n in lines(controls) if not n.startswith("_")]
    assert len(names) == 7
    assert names[0].startswith("tax.rates[0] (income 0-9.53); yardstick")
    assert names[6].startswith("tax.rates[6] (income 500+); yardstick")


def test_without_a_yardstick_the_figure_says_why(tmp_path):
    run = tiny_run("commons_planner", tmp_path, {"episode_length": 40}, period=40)
    fig = planner_choices(run)
    assert list(lines(fig.axes[0])) == ["quota.cap_per_step"]
    assert fig.get_supxlabel() == ("No yardstick: no yardstick is computed for 'commons' worlds.")


def test_a_run_without_a_planner_gets_a_placeholder(tmp_path):
    run = load_run(run_scenario(sc.load("public_goods"), seed=0, out=tmp_path, episodes=2))
    assert planner_log(run) is None
    assert isinstance(planner_choices(run), EmptyFigure)
