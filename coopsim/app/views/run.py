"""Run page: start the design in a detached worker and watch its progress and metrics."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from coopsim.app import jobs, nav, runs_dir, state
from coopsim.app.jobs import LIVE_METRICS

ACTIVE = "active_job"

# Metric -> (what it means, unit for the axis).
METRIC_HELP = {
    "productivity": ("total net payoff of all agents per episode", "coins"),
    "equality": ("1 - Gini x N/(N-1); 1 = everybody equal", "index (0-1)"),
    "contribution_rate": ("share of the endowment contributed", "share (0-1)"),
    "utilitarian_welfare": ("sum of the agents' payoffs", "coins"),
}


def _start(scenario) -> None:
    """Start button callback: reads the inputs by key, so it sees what was just typed."""
    ss = st.session_state
    first = int(ss["run_first_seed"])
    job = jobs.start(
        scenario.to_toml(),
        runs_dir(),
        seeds=list(range(first, first + int(ss["run_seeds"]))),
        episodes=int(ss["run_episodes"]),
        name=scenario.name,
    )
    ss[ACTIVE] = str(job.path)


def _live_charts(job: jobs.Job) -> None:
    """Training curves when the runner reports iterations; else the metrics of finished seeds."""
    iterations = job.status.get("iterations") or []
    if iterations:
        frame = pd.DataFrame(iterations).set_index("iteration")
        st.caption("Training metrics by iteration")
        st.line_chart(frame, x_label="training iteration", y_label="metric value")
    live = job.status.get("live") or []
    if not live:
        st.caption("Metrics appear here as each seed finishes.")
        return
    frame = pd.DataFrame(live)
    frame["seed"] = frame["seed"].astype(str)
    cols = st.columns(len(LIVE_METRICS))
    for col, metric in zip(cols, LIVE_METRICS):
        if metric not in frame:
            continue
        with col:
            st.markdown(f"**{metric.replace('_', ' ')}**", help=METRIC_HELP[metric][0])
            st.bar_chart(
                frame,
                x="seed",
                y=metric,
                x_label="seed",
                y_label=METRIC_HELP[metric][1],
                height=220,
            )


def _show_job(job: jobs.Job) -> None:
    status = job.status
    st.markdown(f"**Job** `{job.id}` — state: **{job.state}**")
    st.progress(float(status.get("progress", 0.0)), text=status.get("message", ""))
    _live_charts(job)
    if job.state == "done":
        st.success(
            f"Finished: {len(status.get('runs', []))} run directories written to {runs_dir()}.",
            icon=":material/check_circle:",
        )
        for path in status.get("runs", []):
            st.code(path, language=None)
        nav.link("compare", "Compare these runs", icon=":material/bar_chart:")
        st.session_state["compare_default"] = [p.rsplit("/", 1)[-1] for p in status.get("runs", [])]
    elif job.state == "failed":
        st.error(f"error: {status.get('error', 'the run failed')}", icon=":material/error:")
    elif job.state == "stopped":
        st.warning("Stopped before it finished; finished seeds are kept as run directories.")
    else:
        if st.button("Stop this run"):
            jobs.stop(job)
            st.rerun()


def render() -> None:
    st.title("Run the design")
    st.caption(
        "Runs go on in a background process: you can leave this page or close the tab, and the "
        "results still appear on the Compare page. Each seed writes one run directory."
    )
    scenario, error = state.check(state.design())
    if error:
        st.error(f"error: {error}", icon=":material/error:")
        nav.link("design", "Fix the design", icon=":material/edit:")
    else:
        st.markdown(
            f"**{scenario.name}** — {scenario.description or 'no description'}  \n"
            f"World: `{scenario.world.kind}` with {scenario.num_agents} agents · mechanisms: "
            f"`{scenario.mechanism_label}`"
        )
        cols = st.columns(3)
        cols[0].number_input(
            "Seeds",
            min_value=1,
            max_value=20,
            value=3,
            step=1,
            key="run_seeds",
            help="Independent runs with seeds first, first+1, ...; each gives a run directory.",
        )
        cols[1].number_input(
            "First seed",
            min_value=0,
            value=int(scenario.evaluation.seed),
            step=1,
            key="run_first_seed",
            help="Seed of the first run; seeds make runs reproducible.",
        )
        cols[2].number_input(
            "Evaluation episodes",
            min_value=1,
            max_value=100_000,
            value=int(scenario.evaluation.episodes),
            step=1,
            key="run_episodes",
            help="Episodes per seed, run in parallel as one batch; more episodes give tighter "
            "confidence intervals.",
        )
        st.button(
            "Start run",
            type="primary",
            on_click=_start,
            args=(scenario,),
        )

    all_jobs = jobs.list_jobs(runs_dir())
    active = st.session_state.get(ACTIVE)
    if active is None and all_jobs:
        active = str(all_jobs[0].path)
    if active is None:
        st.info("No runs started from the app yet.")
        return
    running = not jobs.load(active).finished

    @st.fragment(run_every=1.0 if running else None)
    def watch() -> None:
        job = jobs.load(active)
        st.subheader("Progress")
        _show_job(job)
        if running and job.finished:
            st.rerun()

    watch()
    if all_jobs:
        with st.expander(f"All runs started from the app ({len(all_jobs)})"):
            st.dataframe(
                pd.DataFrame(
                    {
                        "job": [j.id for j in all_jobs],
                        "state": [j.state for j in all_jobs],
                        "progress": [float(j.status.get("progress", 0.0)) for j in all_jobs],
                        "runs": [len(j.status.get("runs", [])) for j in all_jobs],
                        "updated": [j.status.get("updated", "") for j in all_jobs],
                    }
                ),
                column_config={"progress": st.column_config.ProgressColumn("progress")},
                hide_index=True,
            )
