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
from coopsim.app import nav, runs_dir, shown, state
from coopsim.app.views import replay
from coopsim.figures.planner import planner_choices
from coopsim.measures import MEASURES
from coopsim.record import RunData, expand_paths, load_run

# The episodes columns the figures draw: wealth and Lorenz curves (net by episode, agent and
# round, policy for the legend), contributions, and each mechanism's transfers.
FIGURE_COLUMNS = ("episode", "round", "agent", "policy", "net", "contribution", "transfer_*")
#: Most episodes rows read per run for the figures (whole episodes, at least one).
MAX_FIGURE_ROWS = 500_000
#: The expander that holds the run-by-run table where rules are pooled.
BY_RUN = "Each run on its own (intervals over its evaluation episodes)"


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


def _mtime(path: Path) -> float:
    return (path / "summary.json").stat().st_mtime


def sweep_folders() -> list[Path]:
    """Sweep folders under the runs folder (``runs/sweeps/<name>``), newest table first."""
    from coopsim.record import SWEEP_TABLE

    found = [p for p in (runs_dir() / "sweeps").glob("*") if (p / SWEEP_TABLE).is_file()]
    return sorted(found, key=lambda p: (p / SWEEP_TABLE).stat().st_mtime, reverse=True)


@st.cache_data(show_spinner=False, max_entries=16)
def _cells(folder: str, mtime: float) -> dict[str, str]:
    """A sweep's run -> cell label, read again when its table changes (``mtime``: the key)."""
    from coopsim.analysis.rules import sweep_cells

    return sweep_cells(folder)


def sweep_cells() -> dict[str, str]:
    """Every sweep's finished runs -> the label of the cell each ran in."""
    from coopsim.record import SWEEP_TABLE

    out: dict[str, str] = {}
    for folder in sweep_folders():
        try:
            out.update(_cells(str(folder), (folder / SWEEP_TABLE).stat().st_mtime))
        except (OSError, ValueError, KeyError):
            continue  # a sweep being written: its runs stay selectable as runs
    return out


def available_runs(cells: dict[str, str] | None = None) -> list[Path]:
    """Run directories under the runs folder and the sweeps' finished runs, newest first."""
    found = expand_paths(str(runs_dir() / "*"))
    found += [Path(p) for p in (sweep_cells() if cells is None else cells) if Path(p).is_dir()]
    return sorted(dict.fromkeys(found), key=_mtime, reverse=True)


def run_key(path: Path) -> str:
    """How the page names a run: its folder's path under the runs folder (a sweep's run is
    ``sweeps/<sweep>/<cell>/<run>``, so runs of different cells never share a name)."""
    try:
        return path.relative_to(runs_dir()).as_posix()
    except ValueError:
        return path.name


#: Measures the rules table shows first, those the runs have (others can be added).
RULE_MEASURES = (
    "net_welfare",
    "learners_contribution_rate",  # the brief's and the demo's; every seat's where no learners
    "contribution_rate",
    "equality",
    "productivity",
    "gini",
)
#: How many of them by default: the table fits a 1,400-pixel window.
RULE_MEASURES_SHOWN = 4


def _scenario_of(path: Path) -> str | None:
    import json

    try:
        return json.loads((path / "summary.json").read_text()).get("scenario")
    except (OSError, ValueError):
        return None


def _latest_demo(paths: list[Path]) -> list[Path]:
    """The newest run of each demo rule and seed (none when no demo ran)."""
    from coopsim.experiments.demo import ARMS

    demo = {arm.scenario for arm in ARMS.values()}
    newest: dict[tuple[str, str], Path] = {}
    for path in paths:  # newest first
        scenario = _scenario_of(path)
        seed = path.name.rsplit("-s", 1)[-1]
        if scenario in demo:
            newest.setdefault((scenario, seed), path)
    return list(newest.values())


def default_runs(paths: list[Path], cells: dict[str, str] | None = None) -> list[Path]:
    """What the page opens on: the latest demo's runs (the newest run of each demo rule and
    seed) or the latest sweep's finished runs (each cell a rule), whichever finished last;
    the newest four runs where a run outside both is newer still.

    ``paths``: newest first (:func:`available_runs`); ``cells``: the sweeps' runs -> cell."""
    if not paths:
        return []
    cells = cells or {}
    in_sweep = {str(p) for p in paths if str(p) in cells}
    demo = _latest_demo([p for p in paths if str(p) not in in_sweep])
    sweeps = sweep_folders()
    sweep = [p for p in paths if sweeps and p.is_relative_to(sweeps[0]) and str(p) in cells]
    candidates = [c for c in (demo, sweep) if c]
    if not candidates:
        return [p for p in paths if str(p) not in in_sweep][:4] or paths[:4]
    latest = max(candidates, key=lambda c: max(_mtime(p) for p in c))
    if _mtime(paths[0]) > max(_mtime(p) for p in latest) and paths[0] not in demo + sweep:
        return [p for p in paths if str(p) not in in_sweep][:4]
    return latest


def default_measures(present: list[str]) -> list[str]:
    """The measures the rules table opens with: :data:`RULE_MEASURES` the runs have, one
    contribution rate (the learners' where the rules have learners, as the brief's)."""
    picked = [m for m in RULE_MEASURES if m in present]
    if "learners_contribution_rate" in picked and "contribution_rate" in picked:
        picked.remove("contribution_rate")
    return picked[:RULE_MEASURES_SHOWN]


def rules_frame(
    runs: list[RunData],
    measures: list[str] | None = None,
    cells: dict[str, str] | None = None,
    stress: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per rule: its label, seeds, then each measure as ``mean [95% interval]`` over
    the seeds (over episodes for a rule run once, said in the seeds column). ``cells``: sweep
    runs -> their cell (a cell is a rule); ``stress``: a stress test's table, which adds a
    worst-case column and, before it, the stress test's in-distribution value, the one the
    worst case is to be compared with (:func:`worst_case_cells`)."""
    from coopsim.analysis.rules import estimate_text, group_rules, measure_words, rules_table

    table = rules_table(runs, cells=cells, stress=stress)
    present = list(dict.fromkeys(table["measure"]))
    if measures is None:
        measures = default_measures(present)
    worst: tuple[str, dict[str, str]] | None = None
    home: tuple[str, dict[str, str]] | None = None
    if "worst_case" in table:
        worst = worst_case_cells(table, group_rules(runs, cells))
        home = worst_case_cells(table, group_rules(runs, cells), "stress_in_distribution")
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
        if worst is not None and home is not None:  # both from the stress test's episodes
            row[home[0]] = home[1].get(rule, "")
            row[worst[0]] = worst[1].get(rule, "")
        rows.append(row)
    return pd.DataFrame(rows)


#: The header of the rules table's column from each of :func:`rules_table`'s stress columns.
STRESS_HEADERS = {
    "worst_case": "worst case",
    "stress_in_distribution": "stress test's in-distribution",
}


def worst_case_cells(
    table: pd.DataFrame, rules: list, column: str = "worst_case"
) -> tuple[str, dict[str, str]] | None:
    """The rules table's worst-case column: (its header, rule label -> cell), None where the
    stress test covers none of the rules. ``column="stress_in_distribution"``: the column
    beside it, the rule's objective against its own learners *in the stress test*, the value
    its worst case is compared with (the measure columns are over the rule's own evaluation
    episodes, other episodes than the stress test's).

    The worst case is the Stress test tab's (:func:`coopsim.analysis.rules.rules_verdict`):
    each rule's lowest mean of its own objective over the populations it never met. The
    column is on one measure, named in its header (``worst case (net welfare)``): the
    objective of the rules it covers, or of most of them where theirs differ. A rule whose
    objective is another has no number there (its worst case is on another scale): its cell
    names that objective, and the tab gives its number."""
    from coopsim.analysis.rules import OBJECTIVE_MEASURES, measure_words, objective_label

    rows = table[(table["measure"] == "objective") & table[column].notna()]
    if rows.empty:
        return None
    own = {r.label: r.own_objective for r in rules}
    covered = [own[rule] for rule in rows["rule"]]
    shown = max(dict.fromkeys(covered), key=covered.count)  # the first of the most common
    words = objective_label(shown)
    unit = measure_words(OBJECTIVE_MEASURES[shown])[1] if shown in OBJECTIVE_MEASURES else ""
    cells = {}
    for rule, value in zip(rows["rule"], rows[column]):
        if own[rule] != shown:
            cells[rule] = f"its objective: {objective_label(own[rule])}"
        elif unit.startswith("share"):
            cells[rule] = f"{100 * value:.3g}%"
        else:
            cells[rule] = f"{value:.4g}"
    return f"{STRESS_HEADERS[column]} ({words})", cells


def run_labels(runs: list[RunData], cells: dict[str, str] | None = None) -> list[str]:
    """Short column names for runs one by one: the rule's label and the seed."""
    from coopsim.analysis.rules import group_rules

    label = {}
    for rule in group_rules(runs, cells):
        for run in rule.runs:
            label[str(run.path)] = f"{rule.label}, seed {run.summary.get('seed')}"
    names = [label.get(str(r.path), r.name) for r in runs]
    return [n if names.count(n) == 1 else str(r.path) for n, r in zip(names, runs)]


def column_keys(runs: list[RunData]) -> list[str]:
    """The runs' names, or their paths where two share a name (runs of a sweep's cells)."""
    names = [run.name for run in runs]
    return names if len(set(names)) == len(names) else [str(run.path) for run in runs]


def compare_table(runs: list[RunData]) -> tuple[pd.DataFrame, list[str]]:
    """Rows: the registry's measures the runs have; columns: runs, each 'mean [95% CI]'.

    The cells and the notes on zero-width intervals are the CLI's (:func:`tables.format_compare`,
    :func:`tables.zero_width_notes`), so an interval of no width is marked here as it is there,
    with the same reason. Returns (table, notes).
    """
    table = tables.compare(runs)
    cells = tables.format_compare(table)
    cells.columns = column_keys(runs)
    rows = [
        {"measure": measure.label, "meaning": f"{measure.meaning} ({measure.unit})"}
        | cells.loc[metric].to_dict()
        for metric, measure in MEASURES.items()
        if metric in cells.index
    ]
    return pd.DataFrame(rows), tables.zero_width_notes(table)


def stress_folders() -> list[Path]:
    """Stress-test folders (``coopsim stress --out``) in the runs folder or one level down,
    newest first."""
    from coopsim.stress.driver import STRESS

    root = runs_dir()
    found = [*root.glob(f"*/{STRESS}"), *root.glob(f"*/*/{STRESS}")]
    return [p.parent for p in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)]


def stress_folder(runs: list[RunData]) -> Path | None:
    """The newest stress folder that stressed any of ``runs`` (None: no stress test did)."""
    return stress_folder_of([r.path for r in runs])


def stress_folder_of(paths: list[Path]) -> Path | None:
    """The newest stress folder that stressed any of the run directories ``paths``."""
    import json

    from coopsim.stress.driver import MANIFEST

    wanted = {str(Path(p).resolve()) for p in paths}
    for folder in stress_folders():
        try:
            stressed = set(json.loads((folder / MANIFEST).read_text()).get("runs", []))
        except (OSError, ValueError):
            continue
        if stressed & wanted:
            return folder
    return None


@st.cache_data(show_spinner=False, max_entries=4)
def _read_stress(path: str, mtime: float) -> pd.DataFrame:
    return pd.read_parquet(path)


def _stress(folder: Path) -> pd.DataFrame:
    from coopsim.stress.driver import STRESS

    return _read_stress(str(folder / STRESS), (folder / STRESS).stat().st_mtime)


@st.cache_data(show_spinner="Computing the rules' yardsticks…", max_entries=8)
def _yardsticks(paths: tuple[str, ...]) -> dict[str, float]:
    """Each stressed rule's yardstick objective (the rules that have one), computed once."""
    from coopsim.analysis.stress import rule_yardsticks

    return rule_yardsticks(paths)


def stress_verdict(
    frame: pd.DataFrame,
    runs: list[RunData],
    cells: dict[str, str] | None = None,
    yardsticks: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The stress test's verdict on the chosen runs' rules, as a table a reader reads: the rule's
    label and its objective, the objective in-distribution, its worst case (and against whom)
    and 10th percentile over unseen populations, exploitability, and shares of the yardstick
    where it applies (:func:`coopsim.analysis.rules.rules_verdict`, as the brief's).
    Returns (table, stress rule name -> label)."""
    from coopsim.analysis.rules import group_rules, rules_verdict
    from coopsim.analysis.stress import exploitability_words, stress_labels

    rules = group_rules(runs, cells)
    names = stress_labels(rules, frame)
    table = rules_verdict(frame, rules, yardsticks)

    def num(v: float) -> str:
        return "not measured" if pd.isna(v) else f"{v:.4g}"

    def pct(v: float) -> str:
        return "n/a" if pd.isna(v) else f"{100 * v:.0f}%"

    rows = [
        {
            "rule": r.rule,
            "objective": r.objective,
            "in-distribution": f"{num(r.in_distribution)} ({pct(r.in_distribution_share)})",
            "worst case": f"{num(r.worst_case)} ({pct(r.worst_case_share)}), "
            f"{str(r.worst_population).replace('_', ' ')}"
            if r.populations
            else "no unseen population",
            "10th percentile": f"{num(r.p10)} ({pct(r.p10_share)}) of {r.populations}"
            if r.populations
            else "",
            "exploitability": exploitability_words(r) if r.exploiter else "not tested",
        }
        for r in table.itertuples(index=False)
    ]
    columns = ["rule", "objective", "in-distribution", "worst case", "10th percentile"]
    return pd.DataFrame(rows, columns=[*columns, "exploitability"]), names


def labelled_stress(frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The rows of a stress table for the rules ``names`` covers, rules and the populations
    trained under them named by their labels, for the heat map."""
    from coopsim.analysis.stress import population_words

    rows = frame[frame["rule"].isin(names)].copy()
    rows["rule"] = rows["rule"].map(names)
    rows["population"] = [population_words(str(p), names) for p in rows["population"]]
    return rows


def stress_tab(runs: list[RunData], cells: dict[str, str] | None = None) -> None:
    """The Stress test tab: the verdict on the chosen rules that a stress folder covers, and
    each rule's objective against every population it met."""
    from coopsim.analysis.stress import worst_above_home
    from coopsim.figures.rules import stress_heatmap

    folder = stress_folder(runs)
    if folder is None:
        st.info(
            "No stress test covers these runs. `coopsim stress RUNS --out "
            f"{shown.path(runs_dir())}/stress` plays each rule against agents it never met."
        )
        return
    frame = _stress(folder)
    yardsticks = _yardsticks(tuple(sorted(str(r.path) for r in runs)))
    table, names = stress_verdict(frame, runs, cells, yardsticks)
    st.caption(
        f"From {shown.path(folder)}. The objective of each rule against the agents it trained "
        "with (in-distribution), its worst case and 10th percentile over populations it never "
        "met, and an exploiter's gain over the seat it replaced (counted where its interval "
        "lies above zero; else none was found at that training budget). In brackets: the "
        "share of the rule's yardstick (the best static rule with agents at equilibrium), "
        "given for populations of learners only."
    )
    if table["objective"].nunique() > 1:
        st.caption(
            "The rules' objectives differ: compare a rule's numbers with one another, not "
            "with another rule's."
        )
    st.table(table.set_index("rule"))
    # a worst case above the in-distribution value reads as a bug unless the reader is told
    # the two are over different populations, each on episodes of its own
    for note in worst_above_home(frame, labels=names):
        st.caption(note)
    _show(stress_heatmap(labelled_stress(frame, names), "objective"))


def figure_series(
    runs: list[RunData], chosen: list[str], cells: dict[str, str] | None, pooled: bool
) -> tuple[list[RunData], list[str]]:
    """What the outcome figures draw, and its names: with rules pooled, one series per rule
    (:func:`coopsim.analysis.rules.pooled_run`: its seeds together, named by the rule's label,
    the seeds the units of its intervals, as in the table above and the brief); else the runs."""
    if not pooled:
        return runs, chosen
    from coopsim.analysis.rules import group_rules, pooled_run

    rules = group_rules(runs, cells)
    return [pooled_run(rule) for rule in rules], [rule.label for rule in rules]


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
    cells = sweep_cells()
    paths = available_runs(cells)
    if not paths:
        st.info(f"No run directories in {shown.path(runs_dir())} yet: start one on the Run page.")
        return
    names = [run_key(p) for p in paths]
    default = state.selected_runs(names) or [run_key(p) for p in default_runs(paths, cells)]
    chosen = st.multiselect(
        "Runs",
        names,
        default=default,
        help=f"Run directories in {runs_dir()} and its sweeps, newest first; the page opens "
        "on the latest demo's or sweep's (a sweep's cells are its rules). The Report page "
        "reports on the runs chosen here.",
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

        present = list(dict.fromkeys(rules_table(runs, cells=cells)["measure"]))
        defaults = default_measures(present)
        measures = st.multiselect(
            "Measures",
            present,
            default=defaults,
            format_func=lambda m: measure_words(m)[0],
            help="Net welfare subtracts a sponsor's outlay at the planners' stated cost.",
        )
        folder = stress_folder(runs)
        frame = rules_frame(runs, measures, cells, None if folder is None else _stress(folder))
        st.table(frame.set_index("rule"))  # wraps: fits the window
        caption = (
            "Intervals are cut to what each measure can take (a share stays within 0-100%); "
            "'no spread' marks an interval of zero width."
        )
        worst = [c for c in frame.columns if c.startswith("worst case (")]
        if worst:
            caption += (
                f" {worst[0].capitalize()}: the rule's lowest mean of that objective over the "
                "populations it never trained with, from the stress test in "
                f"{shown.path(folder)} (the Stress test tab has its verdict). The measure "
                "columns are over each rule's own evaluation episodes; the stress test plays "
                "episodes of its own: compare the worst case with the stress test's "
                "in-distribution column beside it (the rule against its own learners in those "
                "episodes), not with the columns before. A rule whose objective is another "
                "names it instead: its numbers, on that scale, are in the tab."
            )
        st.caption(caption)
    st.subheader("Welfare, equality and cooperation" + ("" if pooled else ", run by run"))
    table, notes = compare_table(runs)
    short = dict(zip(column_keys(runs), run_labels(runs, cells)))
    meanings = dict(zip(table["measure"], table["meaning"]))
    # the notes explain the '*' marks of the run-by-run table: they go with it, inside the
    # expander where rules are pooled (the rules table marks its own as 'no spread')
    by_run = st.expander(BY_RUN, expanded=False) if pooled else st.container()
    with by_run:
        st.table(table.drop(columns="meaning").set_index("measure").rename(columns=short))
        if notes:
            st.caption("Zero-width intervals: " + "; ".join(notes))
    with st.expander("What each measure means"):
        st.markdown("\n".join(f"- **{k}**: {v}" for k, v in meanings.items()))
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
    drawn, names = figure_series(runs, chosen, cells, pooled)
    over = (
        "the mean over its training seeds, with its 95% interval over them (over its "
        "evaluation episodes for a rule run once)"
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
            "Stress test",
        ]
    )
    with tabs[0]:
        st.caption(
            f"One point per rule: {over}. Up and right is better."
            if pooled
            else "One point per run; bars are 95% confidence intervals. Up and right is better."
        )
        _show(figures.equality_vs_productivity(drawn))
    with tabs[1]:
        st.caption(
            "One curve per rule, its seeds' evaluation episodes pooled: the further it bows "
            "below the diagonal, the more unequal the rule."
            if pooled
            else "The further a curve bows below the diagonal, the more unequal the run."
        )
        _show(figures.lorenz_curves(drawn))
    with tabs[2]:
        what = "Rule" if pooled else "Run"
        pick = st.selectbox(what, names, key=f"wealth_{what.lower()}", help="Whose agents to plot.")
        if pooled:
            st.caption(f"Each agent's wealth by round: {over}.")
        _show(figures.wealth_over_time(drawn[names.index(pick)]))
    with tabs[3]:
        if pooled:
            st.caption(f"One line per rule: {over}.")
        _show(figures.contributions_per_round(drawn))
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
        if learned and pooled:
            st.caption("One figure per run: each training seed trained on its own.")
        if not learned:
            st.info("None of these runs trained: evaluated runs have no training log.")
        for run in learned:
            _show(figures.metrics_over_training(run))
    with tabs[6]:
        planned = [r for r in runs if "planner" in r.scenario]
        if planned and pooled:
            st.caption("One figure per run: each training seed's planner chose on its own.")
        if not planned:
            st.info("None of these runs has a planner: nothing was chosen over training.")
        for run in planned:
            _show(planner_choices(run))
    with tabs[7]:
        stress_tab(runs, cells)
    replay.render_section(runs)  # runs of spatial worlds: their episode, frame by frame
