"""Compare page: rules pooled over their training seeds (or runs one by one), with the figures.

The page opens on the latest demo's runs (:func:`default_runs`), compared as rules: one row per
rule, its label the one the CLI, the brief and the notebooks print
(:func:`coopsim.analysis.rules.rules_table`), each cell ``mean [95% interval]`` over training
seeds. Runs stay selectable one by one.

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


#: Measures the rules table shows first, those the runs have (others can be added).
RULE_MEASURES = ("net_welfare", "contribution_rate", "equality", "productivity", "gini")
#: How many of them by default: the table fits a 1,400-pixel window.
RULE_MEASURES_SHOWN = 4


def _scenario_of(path: Path) -> str | None:
    import json

    try:
        return json.loads((path / "summary.json").read_text()).get("scenario")
    except (OSError, ValueError):
        return None


def default_runs(paths: list[Path]) -> list[Path]:
    """What the page opens on: the latest demo's runs (the newest run of each demo rule and
    seed) where the newest run is one of them; else the newest four runs."""
    from coopsim.experiments.demo import ARMS

    demo = {arm.scenario for arm in ARMS.values()}
    if not paths or _scenario_of(paths[0]) not in demo:
        return paths[:4]
    newest: dict[tuple[str, str], Path] = {}
    for path in paths:  # newest first
        scenario = _scenario_of(path)
        seed = path.name.rsplit("-s", 1)[-1]
        if scenario in demo:
            newest.setdefault((scenario, seed), path)
    return list(newest.values())


def rules_frame(runs: list[RunData], measures: list[str] | None = None) -> pd.DataFrame:
    """One row per rule: its label, seeds, then each measure as ``mean [95% interval]`` over
    the seeds (over episodes for a rule run once, said in the seeds column)."""
    from coopsim.analysis.rules import estimate_text, measure_words, rules_table

    table = rules_table(runs)
    present = list(dict.fromkeys(table["measure"]))
    if measures is None:
        measures = [m for m in RULE_MEASURES if m in present][:RULE_MEASURES_SHOWN]
    rows = []
    for rule, group in table.groupby("rule", sort=False):
        first = group.iloc[0]
        seeds = int(first["seeds"])
        row = {"rule": rule, "seeds": str(seeds) if seeds > 1 else "1 (over episodes)"}
        for m in measures:
            found = group[group["measure"] == m]
            if found.empty:
                row[measure_words(m)[0]] = ""
                continue
            r = found.iloc[0]
            row[measure_words(m)[0]] = estimate_text(
                r["mean"], r["ci_low"], r["ci_high"], r["unit"], compact=True
            )
        rows.append(row)
    return pd.DataFrame(rows)


def run_labels(runs: list[RunData]) -> list[str]:
    """Short column names for runs one by one: the rule's label and the seed."""
    from coopsim.analysis.rules import group_rules

    label = {}
    for rule in group_rules(runs):
        for run in rule.runs:
            label[run.name] = f"{rule.label}, seed {run.summary.get('seed')}"
    names = [label.get(r.name, r.name) for r in runs]
    return [n if names.count(n) == 1 else r.name for n, r in zip(names, runs)]


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
    st.title("Compare rules")
    st.caption(
        "Runs of one rule at different training seeds are pooled: each cell is the mean over "
        "the seeds with its 95% interval. Runs started from the app appear here when they "
        "finish, even if you closed the tab meanwhile."
    )
    paths = available_runs()
    if not paths:
        st.info(f"No run directories in {runs_dir()} yet: start one on the Run page.")
        return
    names = [p.name for p in paths]
    default = state.selected_runs(names) or [p.name for p in default_runs(paths)]
    chosen = st.multiselect(
        "Runs",
        names,
        default=default,
        help=f"Run directories in {runs_dir()}, newest first; the page opens on the latest "
        "demo's. The Report page reports on the runs chosen here.",
    )
    state.select_runs(chosen)
    if not chosen:
        st.warning("Choose at least one run.")
        return
    nav.link("report", "Write a report on these runs", icon=":material/description:")
    by_name = dict(zip(names, paths))
    runs = [_load(str(by_name[n]), (by_name[n] / "summary.json").stat().st_mtime) for n in chosen]
    from coopsim.analysis.tables import unmeasured_notes

    for note in unmeasured_notes(runs):  # folders written before non-finite measures were refused
        st.warning(note)

    pooled = st.radio(
        "Compare", ["rules, pooled over seeds", "runs one by one"], horizontal=True
    ).startswith("rules")
    if pooled:
        st.subheader("Rules")
        from coopsim.analysis.rules import measure_words, rules_table

        present = list(dict.fromkeys(rules_table(runs)["measure"]))
        shown = [m for m in RULE_MEASURES if m in present][:RULE_MEASURES_SHOWN]
        measures = st.multiselect(
            "Measures",
            present,
            default=shown,
            format_func=lambda m: measure_words(m)[0],
            help="Net welfare subtracts a sponsor's outlay at the planners' stated cost.",
        )
        st.table(rules_frame(runs, measures).set_index("rule"))  # wraps: fits the window
        st.caption(
            "Intervals are cut to what each measure can take (a share stays within 0-100%); "
            "'no spread' marks an interval of zero width."
        )
    st.subheader("Welfare, equality and cooperation" + ("" if pooled else ", run by run"))
    table, notes = compare_table(runs)
    short = dict(zip([r.name for r in runs], run_labels(runs)))
    meanings = dict(zip(table["measure"], table["meaning"]))
    if pooled:
        with st.expander("Each run on its own (intervals over its evaluation episodes)"):
            st.table(table.drop(columns="meaning").set_index("measure").rename(columns=short))
    else:
        st.table(table.drop(columns="meaning").set_index("measure").rename(columns=short))
    with st.expander("What each measure means"):
        st.markdown("\n".join(f"- **{k}**: {v}" for k, v in meanings.items()))
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
        learned = [r for r in runs if r.training_log is not None and not r.training_log.empty]
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
