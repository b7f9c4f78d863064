"""Figures a brief prints are readable on paper: at most 8 colours per axes (then facets),
every legend inside the figure and none over the data, every data point inside its axes'
limits, whole-number ticks for rounds and training iterations.

Checked on every figure a brief draws, with few series (the demo's five rules) and with more
than the palette holds (eleven runs), so the facets are checked too."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgb

from coopsim import figures
from coopsim import scenario as sc
from coopsim.figures.style import MAX_COLOURS, facets
from coopsim.runner import run_scenario


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Eleven runs of four scripted rules (seeds apart): more series than the palette."""
    from coopsim.record import load_run

    out = tmp_path_factory.mktemp("runs")
    names = ["public_goods", "public_goods_matching", "public_goods_institution",
             "public_goods_punishment"]  # fmt: skip
    paths = [run_scenario(sc.load(names[i % 4]), seed=i, out=out, episodes=2) for i in range(11)]
    return [load_run(p) for p in paths]


def _grey(rgb) -> bool:
    r, g, b = rgb
    return abs(r - g) < 0.02 and abs(g - b) < 0.02  # reference lines: equality, endowment


def colours(ax) -> set[tuple[float, ...]]:
    """The distinct data colours of an axes (lines, markers, bars, bands), greys aside."""
    found = set()
    for line in ax.lines:
        found.add(tuple(round(c, 3) for c in to_rgb(line.get_color())))
    for patch in ax.patches:
        found.add(tuple(round(c, 3) for c in to_rgb(patch.get_facecolor())))
    for coll in ax.collections:
        for face in coll.get_facecolors():
            found.add(tuple(round(c, 3) for c in to_rgb(face)))
    return {c for c in found if not _grey(c)}


def legends(fig):
    found = list(fig.legends)
    for sub in fig.subfigs:
        found += list(sub.legends)
    found += [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return found


def check_print_rules(fig) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)  # as a PNG or PDF page is drawn
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.bbox
    for ax in fig.axes:
        if not ax.get_visible() or not (ax.lines or ax.patches or ax.collections):
            continue
        assert len(colours(ax)) <= MAX_COLOURS, (ax.get_title(), len(colours(ax)))
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        for line in ax.lines:
            xs = np.asarray(line.get_xdata(), dtype=float)
            ys = np.asarray(line.get_ydata(), dtype=float)
            if line.get_transform() != ax.transData:
                continue  # axhline and friends live in axes coordinates
            ok = np.isfinite(xs) & np.isfinite(ys)
            assert (xs[ok] >= x0).all() and (xs[ok] <= x1).all(), (ax.get_title(), "x")
            assert (ys[ok] >= y0).all() and (ys[ok] <= y1).all(), (ax.get_title(), "y")
        for patch in ax.patches:  # bars: their top and bottom inside the limits
            bar = patch.get_bbox()
            assert y0 <= min(bar.y0, bar.y1) and max(bar.y0, bar.y1) <= y1, ax.get_title()
        label = ax.get_xlabel()
        if label in ("round", "training iteration"):
            ticks = [t for t in ax.get_xticks() if x0 <= t <= x1]
            assert all(float(t).is_integer() for t in ticks), (label, ticks)
        inside = ax.get_legend()
        if inside is not None:  # a legend inside the axes sits on no data point
            where = inside.get_window_extent(renderer)
            for line in ax.lines:
                if line.get_transform() != ax.transData or not line.get_marker():
                    continue
                points = ax.transData.transform(np.column_stack(line.get_data()))
                hit = [where.contains(x, y) for x, y in points if np.isfinite([x, y]).all()]
                assert not any(hit), (ax.get_title(), line.get_label())
    for legend in legends(fig):
        where = legend.get_window_extent(renderer)
        assert where.x0 >= box.x0 - 1 and where.x1 <= box.x1 + 1, ("legend cut off", where)
        assert where.y0 >= box.y0 - 1 and where.y1 <= box.y1 + 1, ("legend cut off", where)


def test_facets_split_series_evenly_within_the_palette():
    assert facets(5) == [[0, 1, 2, 3, 4]]
    assert [len(g) for g in facets(9)] == [5, 4]
    assert [len(g) for g in facets(17)] == [6, 6, 5]
    assert all(len(g) <= MAX_COLOURS for n in range(1, 40) for g in facets(n))
    assert [i for g in facets(23) for i in g] == list(range(23))


@pytest.mark.parametrize("count", [5, 11])
@pytest.mark.parametrize(
    "draw",
    [
        figures.lorenz_curves,
        figures.contributions_per_round,
        figures.equality_vs_productivity,
        figures.agent_outcomes,
        figures.compare_metrics,
    ],
    ids=lambda f: f.__name__,
)
def test_figures_of_several_runs_follow_the_print_rules(runs, draw, count):
    fig = draw(runs[:count])
    check_print_rules(fig)
    if count > MAX_COLOURS and draw is not figures.compare_metrics:
        titled = [ax for ax in fig.axes if ax.get_title()]
        assert len(titled) == 2  # two facets, of six and five
        assert titled[0].get_title().endswith("(1-6 of 11)"), titled[0].get_title()


@pytest.mark.parametrize(
    "draw", [figures.wealth_over_time, figures.mechanism_parameters], ids=lambda f: f.__name__
)
def test_figures_of_one_run_follow_the_print_rules(runs, draw):
    for run in runs[:4]:  # no rule, matching, institution, punishment
        check_print_rules(draw(run))


def test_the_lorenz_curves_end_points_are_not_cut_by_the_frame(runs):
    ax = figures.lorenz_curves(runs[:3]).axes[0]
    assert ax.get_xlim()[0] < 0 < 1 < ax.get_xlim()[1]
    assert ax.get_ylim()[0] < 0 < 1 < ax.get_ylim()[1]


def test_a_log_of_one_training_iteration_is_ticked_in_whole_iterations(tmp_path):
    """A run trained one iteration (``coopsim demo --quick``): its point at iteration 0 and a
    tick that reads 0, not -0.04 ... 0.04, in the training and the planner's figures."""
    from coopsim.figures.planner import planner_choices
    from coopsim.record import load_run

    scenario = sc.load("public_goods_matching_planner")
    scenario.training.num_worlds = 8
    scenario.evaluation.episodes = 2
    run = load_run(run_scenario(scenario, seed=0, out=tmp_path, iterations=1))
    for fig in (figures.metrics_over_training(run), planner_choices(run, with_yardstick=False)):
        check_print_rules(fig)
        ticked = [ax for ax in fig.axes if ax.get_xlabel() == "training iteration"]
        assert ticked and all(list(ax.get_xticks()) == [0.0] for ax in ticked)
