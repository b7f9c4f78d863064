"""Compare page: welfare, equality and cooperation of chosen runs, with the shared figures.

Figures come from :mod:`coopsim.figures`, the same ones reports and notebooks show. The table
comes from each run's ``summary.json`` (every evaluation episode); the figures read only the
columns they draw and at most :data:`MAX_FIGURE_ROWS` rows of a run's episodes, whole
episodes from the first on, so a run of millions of rows costs this page tens of megabytes,
not gigabytes. A figure drawn from fewer episodes than the run has says so.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import streamlit as st

from coopsim import figures
from coopsim.analysis import tables
from coopsim.app import nav, runs_dir, state
from coopsim.app.views import replay
from coopsim.figures.planner import planner_choices
from coopsim.measures import MEASURES
from coopsim.record import RunData, expand_paths, load_run

# The episodes columns the figures draw: wealth and Lorenz curves (net by episode, agent and
# round, policy for the legend), contributions, and each mechanism's transfers.
FIGURE_COLUMNS = ("episode", "round", "agent", "policy", "net", "contribution", "transfer_*")
#: Most episodes rows read per run for the figures (whole episodes, at least one).
MAX_FIGURE_ROWS = 500_000


@st.cache_resource(show_spinner=False, max_entries=8)
def _load(path: str, mtime: float) -> RunData:
    """One run as the figures need it, shared by every session until its summary changes.

    A resource cache, not a data cache: sessions share the one copy instead of each getting
    its own. ``mtime`` is only part of the cache key.
    """
    return load_run(path, columns=FIGURE_COLUMNS, max_rows=MAX_FIGURE_ROWS)


def episodes_shown(run: RunData) -> tuple[int, int]:
    """(episodes the figures draw, episodes the run evaluated)."""
    total = int(run.summary.get("episodes", 0))
    shown = int(run.episodes["episode"].nunique()) if "episode" in run.episodes else 0
    return shown, max(total, shown)


def available_runs() -> list[Path]:
    """Run directories under the runs folder, newest first."""
    found = expand_paths(str(runs_dir() / "*"))
    return sorted(found, key=lambda p: (p / "summary.json").stat().st_mtime, reverse=True)


def compare_table(runs: list[RunData]) -> tuple[pd.DataFrame, list[str]]:
    """Rows: the registry's measures the runs have; columns: runs, each 'mean [95% CI]'.

    The cells and the notes on zero-width intervals are the CLI's (:func:`tables.format_compare`,
    :func:`tables.zero_width_notes`), so an interval of no width is marked here as it is there,
    with the same reason. Returns (table, notes).
    """
    table = tables.compare(runs)
    cells = tables.format_compare(table)
    cells.columns = [run.name for run in runs]
    rows = [
        {"measure": measure.label, "meaning": f"{measure.meaning} ({measure.unit})"}
        | cells.loc[metric].to_dict()
        for metric, measure in MEASURES.items()
        if metric in cells.index
    ]
    return pd.DataFrame(rows), tables.zero_width_notes(table)


def _show(fig) -> None:
    if fig is None:
        return
    st.pyplot(fig, clear_figure=True)
    plt.close(fig)  # figures made through pyplot would otherwise stay in its registry


def render() -> None:
    st.title("Compare runs")
    st.caption(
        "Mean over evaluation episodes with its 95% confidence interval. Runs started from the "
        "app appear here when they finish, even if you closed the tab meanwhile."
    )
    paths = available_runs()
    if not paths:
        st.info(f"No run directories in {runs_dir()} yet: start one on the Run page.")
        return
    names = [p.name for p in paths]
    chosen = st.multiselect(
        "Runs",
        names,
        default=state.selected_runs(names) or names[: min(4, len(names))],
        help=f"Run directories in {runs_dir()}, newest first. The Report page reports on the "
        "runs chosen here.",
    )
    state.select_runs(chosen)
    if not chosen:
        st.warning("Choose at least one run.")
        return
    nav.link("report", "Write a report on these runs", icon=":material/description:")
    by_name = dict(zip(names, paths))
    runs = [_load(str(by_name[n]), (by_name[n] / "summary.json").stat().st_mtime) for n in chosen]

    st.subheader("Welfare, equality and cooperation")
    table, notes = compare_table(runs)
    st.table(table.set_index("measure"))
    if notes:
        st.caption("Zero-width intervals: " + "; ".join(notes))
    tidy = pd.concat([r.summary_frame() for r in runs], ignore_index=True)
    st.download_button(
        "Download table (CSV)", tidy.to_csv(index=False), file_name="compare.csv", mime="text/csv"
    )

    st.subheader("Figures")
    partial = [(r.label, *episodes_shown(r)) for r in runs]
    partial = [p for p in partial if p[1] < p[2]]
    if partial:
        st.caption(
            "Figures of long runs draw their first episodes only (the table uses all): "
            + "; ".join(f"{label}: {shown} of {total}" for label, shown, total in partial)
            + "."
        )
    tabs = st.tabs(
        [
            "Equality vs productivity",
            "Lorenz curves",
            "Wealth over time",
            "Contributions per round",
            "Mechanism parameters",
            "Training",
            "Planner",
        ]
    )
    with tabs[0]:
        st.caption("One point per run; bars are 95% confidence intervals. Up and right is better.")
        _show(figures.equality_vs_productivity(runs))
    with tabs[1]:
        st.caption("The further a curve bows below the diagonal, the more unequal the run.")
        _show(figures.lorenz_curves(runs))
    with tabs[2]:
        pick = st.selectbox("Run", chosen, key="wealth_run", help="Whose agents to plot.")
        _show(figures.wealth_over_time(runs[chosen.index(pick)]))
    with tabs[3]:
        _show(figures.contributions_per_round(runs))
    with tabs[4]:
        pick = st.selectbox("Run", chosen, key="mech_run", help="Whose mechanisms to show.")
        run = runs[chosen.index(pick)]
        mechs = run.scenario.get("mechanisms", [])
        if not mechs:
            st.info("This run has no mechanisms.")
        else:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "order": i + 1,
                            "mechanism": m["kind"],
                            "parameters": ", ".join(
                                f"{k}={v}" for k, v in m.items() if k != "kind"
                            ),
                        }
                        for i, m in enumerate(mechs)
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
            _show(figures.mechanism_parameters(run))
    with tabs[5]:
        learned = [r for r in runs if r.metrics is not None and not r.metrics.empty]
        if not learned:
            st.info("None of these runs trained: evaluated runs have no training log.")
        for run in learned:
            _show(figures.metrics_over_training(run))
    with tabs[6]:
        planned = [r for r in runs if "planner" in r.scenario]
        if not planned:
            st.info("None of these runs has a planner: nothing was chosen over training.")
        for run in planned:
            _show(planner_choices(run))
    replay.render_section(runs)  # runs of spatial worlds: their episode, frame by frame
