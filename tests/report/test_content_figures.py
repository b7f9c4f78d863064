"""Report figures stay readable where lines coincide and legends would hide the data."""

from __future__ import annotations

from coopsim import figures
from coopsim.record import load_run


def test_coinciding_lines_stay_distinguishable(run_dirs):
    """Runs or agents with the same data are drawn over one another; each keeps its own dash
    and marker so the legend names only lines a reader can find."""

    runs = [load_run(r) for r in run_dirs]
    for fig in (figures.contributions_per_round(runs), figures.wealth_over_time(runs[0])):
        (ax,) = fig.axes
        series = [ln for ln in ax.get_lines() if ln.get_marker() not in (None, "None", "")]
        assert len(series) >= 2
        styles = {(ln.get_linestyle(), ln.get_marker()) for ln in series}
        assert len(styles) == len(series)


def test_crowded_figures_keep_legends_off_the_data(run_dirs):
    """Bars and full-height lines leave no free corner: these legends sit below the axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    runs = [load_run(r) for r in run_dirs]
    for fig in (figures.agent_outcomes(runs), figures.contributions_per_round(runs)):
        (ax,) = fig.axes
        assert ax.get_legend() is None
        (legend,) = fig.legends
        canvas = FigureCanvasAgg(fig)  # figures are built without pyplot, so no canvas yet
        canvas.draw()
        renderer = canvas.get_renderer()
        box, axes_box = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
        assert box.y1 <= axes_box.y0  # wholly below the axes
        assert {t.get_text() for t in legend.get_texts()} >= {r.summary["scenario"] for r in runs}


def test_equality_productivity_axes_do_not_zoom_into_float_noise(run_dirs, tmp_path):
    """Runs that differ by float noise share one point on a reader's scale, with plain ticks."""
    import json
    import shutil

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    copies = []
    for i in range(2):
        dest = tmp_path / f"noise-{i}"
        shutil.copytree(run_dirs[1], dest)
        summary = json.loads((dest / "summary.json").read_text())
        for name in ("equality", "productivity"):
            stats = summary["metrics"][name]
            value = stats["mean"] + i * 1e-8
            stats.update(mean=value, ci_low=value, ci_high=value)
        (dest / "summary.json").write_text(json.dumps(summary))
        copies.append(load_run(dest))
    fig = figures.equality_vs_productivity(copies)
    (ax,) = fig.axes
    FigureCanvasAgg(fig).draw()
    low, high = ax.get_ylim()
    assert high - low >= figures.MIN_EQUALITY_SPAN and low >= 0 and high <= 1
    left, right = ax.get_xlim()
    assert (
        right - left
        >= figures.MIN_RELATIVE_SPAN * copies[0].summary["metrics"]["productivity"]["mean"]
    )
    assert ax.xaxis.get_offset_text().get_text() == ""
    assert ax.yaxis.get_offset_text().get_text() == ""


def test_placeholders_are_marked_empty(run_dirs):
    """The report leaves out figures without data; they are EmptyFigure placeholders."""
    punished = load_run(run_dirs[1])  # evaluated, not trained: no training log
    assert isinstance(figures.metrics_over_training(punished), figures.EmptyFigure)
    assert not isinstance(figures.wealth_over_time(punished), figures.EmptyFigure)


def test_the_brief_draws_every_figure_without_a_layout_warning(run_dirs, tmp_path):
    """Rules whose labels name their seats run to 100 characters ("peer punishment 3x, with 2
    punisher seats and 1 conditional cooperator seat and 1 free rider seat"): on one line the
    ranking's labels were wider than the figure, and `coopsim report` printed matplotlib's
    "constrained_layout not applied" warning. Every figure of the brief is drawn here with
    warnings as errors."""
    import warnings

    from coopsim import scenario
    from coopsim.figures.rules import LABEL_CHARS
    from coopsim.report import FigureBlock, build_content, figure_png
    from coopsim.runner import run_scenario

    scripted = run_scenario(scenario.load("public_goods_institution"), out=tmp_path, episodes=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = build_content([*run_dirs, scripted])
        blocks = [b for s in report.sections for b in s.blocks if isinstance(b, FigureBlock)]
        for block in blocks:
            assert figure_png(block.figure)[:4] == b"\x89PNG", block.key
    (ranking,) = [b.figure for b in blocks if b.key == "fig-ranking"]
    (ax,) = ranking.axes
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert max(len(n.replace("\n", " ")) for n in names) > 60  # the long labels are there
    assert all(len(line) <= LABEL_CHARS for n in names for line in n.split("\n"))
    assert ax.get_position().width > 0.3  # the axes keep room for the data
