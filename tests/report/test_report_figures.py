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
