"""Run page: queue the design in a background worker, watch it, and stop, resume or discard it.

Each browser session sees the jobs it started (:mod:`coopsim.app.session`): the one it watches
in full, and every one of them under 'Your jobs' with its own buttons, so an older job left
interrupted can still be resumed or discarded. Other sessions' jobs are listed under 'All
jobs', without buttons, since a session may only act on its own jobs.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from coopsim import scenario as sc
from coopsim.app import (
    jobqueue,
    jobs,
    limits,
    nav,
    numbers,
    recovery,
    runs_dir,
    session,
    shown,
    state,
)
from coopsim.app.jobs import LIVE_METRICS
from coopsim.app.training_chart import training_chart
from coopsim.measures import MEASURES

ACTIVE = "active_job"
COLLISION = "run_collision"
OFFERED = "runs_offered_of_job"  # the job whose runs were last handed to Compare
VIEW_MINE, VIEW_ALL = "Your jobs", "All jobs"
MAX_SEEDS = 20  # runs one job may start
MAX_SEED = 2**31 - 1  # seeds the run directories' names and torch's generators all take


def _busy_keys() -> set[str]:
    found = jobs.list_jobs(runs_dir())
    return set().union(*(j.keys for j in found if j.state in jobs.ACTIVE))


def _queue(scenario: sc.Scenario, first: int, count: int, episodes: int) -> None:
    seeds = list(range(first, first + count))
    job = jobqueue.start(
        scenario.to_toml(),
        runs_dir(),
        seeds=seeds,
        episodes=episodes,
        name=scenario.name,
        owner=session.current(),
        keys=recovery.collision_keys(scenario, seeds),
    )
    st.session_state[ACTIVE] = str(job.path)
    st.session_state.pop(COLLISION, None)


def _start(scenario: sc.Scenario) -> None:
    """Start button callback: reads the boxes by key, so it sees what was just typed (a click
    straight after typing commits the box in the same rerun); a box that does not parse
    starts nothing, and the page then shows its error beside it."""
    ss = st.session_state
    bounds = {
        "run_first_seed": (0, MAX_SEED),
        "run_seeds": (1, MAX_SEEDS),
        "run_episodes": (1, None),
    }
    parsed = [numbers.within(numbers.parse(str(ss[k]), int), *b) for k, b in bounds.items()]
    if any(p.error for p in parsed):
        return
    first, count, episodes = (int(p.value) for p in parsed)
    seeds = list(range(first, first + count))
    clash = recovery.collision(scenario, seeds, runs_dir(), _busy_keys())
    if clash is None:
        _queue(scenario, first, count, episodes)
    else:
        ss[COLLISION] = {"first": first, "count": count, "episodes": episodes, "clash": clash}


def _discard_and_queue(scenario: sc.Scenario, pending: dict[str, Any]) -> None:
    for found in pending["clash"].blocked:
        if not recovery.discard(found.folder):
            st.session_state[COLLISION] = {**pending, "refused": found.seed}
            return
    _queue(scenario, pending["first"], pending["count"], pending["episodes"])


def _collision_choices(scenario: sc.Scenario) -> None:
    """What to do when the seeds asked for are being trained, or blocked by an older design."""
    pending = st.session_state.get(COLLISION)
    if not pending:
        return
    clash: recovery.Collision = pending["clash"]
    count, free = pending["count"], clash.next_free
    st.warning(f"Not started: {clash.describe(scenario.name)}.", icon=":material/warning:")
    if pending.get("refused") is not None:
        st.error(f"Seed {pending['refused']} is being trained right now; it cannot be discarded.")
    cols = st.columns(4)
    seeds = f"{free}" if count == 1 else f"{free}-{free + count - 1}"
    cols[0].button(
        f"Use seeds {seeds} instead" if count > 1 else f"Use seed {seeds} instead",
        on_click=_queue,
        args=(scenario, free, count, pending["episodes"]),
        help="The nearest seeds that no job trains and no unfinished run holds.",
    )
    if clash.busy and not clash.blocked:
        cols[1].button(
            "Wait for the other job",
            on_click=_queue,
            args=(scenario, pending["first"], count, pending["episodes"]),
            help="Queue this job; it starts when the other has finished, and resumes from "
            "its checkpoint if it was left unfinished.",
        )
    if clash.blocked and not clash.busy:
        cols[1].button(
            "Discard the unfinished run and start over",
            on_click=_discard_and_queue,
            args=(scenario, pending),
            help="Deletes its checkpoints; finished run directories are kept.",
        )
    cols[2].button("Cancel", on_click=st.session_state.pop, args=(COLLISION, None))


def _live_charts(job: jobs.Job) -> None:
    """Training curves when the runner reports iterations; else the metrics of finished seeds."""
    chart = training_chart(job.status.get("iterations") or [])
    if chart is not None:
        st.caption("Training metrics by iteration (each panel on its own scale)")
        st.altair_chart(chart, width="content")
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
        measure = MEASURES[metric]
        with col:
            st.markdown(f"**{measure.label}**", help=measure.meaning)
            st.bar_chart(
                frame, x="seed", y=metric, x_label="seed", y_label=measure.unit, height=220
            )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _queued_text(job: jobs.Job, everyone: list[jobs.Job]) -> str:
    place = jobs.queue_place(job, everyone)
    running = sum(j.state == "running" for j in everyone)
    limit = int(job.spec.get("max_jobs", jobqueue.max_jobs()))
    return (
        f"Queued, {_ordinal(place)} in line: {running} of {limit} job slots are busy. It starts "
        "by itself when a slot frees up; you may close the tab meanwhile."
    )


def _unfinished_runs(job: jobs.Job) -> list[recovery.Unfinished]:
    try:
        scenario = sc.load(job.path / jobs.DESIGN)
    except Exception:  # a design that never loaded has nothing to resume from
        return []
    found = (recovery.unfinished(scenario, s, job.spec["out"]) for s in job.remaining_seeds)
    return [u for u in found if u is not None]


def _refused_key(job: jobs.Job) -> str:
    return f"discard_refused.{job.id}"


def _discard(job: jobs.Job) -> None:
    kept = [u.seed for u in _unfinished_runs(job) if not recovery.discard(u.folder)]
    if kept:
        st.session_state[_refused_key(job)] = kept
        return
    jobs.write_status(job.path, state="discarded", message="discarded")
    jobqueue.dispatch(runs_dir())


def _resume(job: jobs.Job) -> None:
    """Resume button callback: queue the job again and watch it."""
    jobqueue.resume(jobs.load(job.path))
    st.session_state[ACTIVE] = str(job.path)


def _watch(job: jobs.Job) -> None:
    st.session_state[ACTIVE] = str(job.path)


def _recovery(job: jobs.Job) -> None:
    """Resume or discard a stopped or interrupted job (only its own session sees the buttons)."""
    found = _unfinished_runs(job)
    left = ", ".join(str(s) for s in job.remaining_seeds)
    with_checkpoint = [u for u in found if u.iterations_done > 0]
    if with_checkpoint:
        lines = "\n".join(f"- {u.describe()}" for u in with_checkpoint)
        st.info(
            f"A checkpoint exists, so Resume continues where training stopped:\n{lines}",
            icon=":material/save:",
        )
    else:
        st.info(f"Seeds left to run: {left}. Resume runs them from the start.")
    _refused(job)
    cols = st.columns([1, 1, 4])
    _job_buttons(job, cols[0], cols[1], "watched")


def _refused(job: jobs.Job) -> None:
    refused = st.session_state.pop(_refused_key(job), None)
    if refused:
        st.error(f"Seed(s) {refused} are being trained right now; they cannot be discarded.")


def _job_buttons(job: jobs.Job, first: Any, second: Any, where: str) -> None:
    """Resume and Discard for a job that can be resumed, Stop for one queued or running."""
    if job.resumable:
        first.button(
            "Resume",
            type="primary",
            key=f"{where}.resume-{job.id}",
            on_click=_resume,
            args=(job,),
            help="Queue it again: it runs the seeds it has not finished, from their checkpoints.",
        )
        second.button(
            "Discard",
            key=f"{where}.discard-{job.id}",
            on_click=_discard,
            args=(job,),
            help="Deletes the unfinished runs' checkpoints; finished run directories are kept.",
        )
    elif not job.finished:
        first.button(
            "Stop this run" if job.state == "running" else "Take it out of the queue",
            key=f"{where}.stop-{job.id}",
            on_click=jobqueue.stop,
            args=(job,),
        )


def _show_job(job: jobs.Job, everyone: list[jobs.Job]) -> None:
    status = job.status
    st.markdown(f"**Job** `{job.id}` — state: **{job.state}**")
    st.progress(float(status.get("progress", 0.0)), text=status.get("message", ""))
    if job.state == "queued":
        st.info(_queued_text(job, everyone), icon=":material/hourglass_top:")
    _live_charts(job)
    if job.state == "done":
        st.success(
            f"Finished: {len(status.get('runs', []))} run directories written to "
            f"{shown.path(runs_dir())}.",
            icon=":material/check_circle:",
        )
        for path in status.get("runs", []):
            st.code(shown.path(path), language=None)
        nav.link("compare", "Compare these runs", icon=":material/bar_chart:")
        if st.session_state.get(OFFERED) != job.id:  # once: a later choice on Compare stands
            st.session_state[OFFERED] = job.id
            state.select_runs([p.rsplit("/", 1)[-1] for p in status.get("runs", [])])
    elif job.state == "failed":
        st.error(
            f"error: {shown.text(status.get('error', 'the run failed'))}", icon=":material/error:"
        )
    elif job.state == "discarded":
        st.info(
            "Discarded: its checkpoints are deleted; finished seeds are kept as run directories."
        )
    elif job.state in jobs.RESUMABLE:
        why = (
            "Stopped before it finished."
            if job.state == "stopped"
            else f"Interrupted: {shown.text(status.get('error', 'its worker stopped'))}"
        )
        st.warning(f"{why} Finished seeds are kept as run directories.")
        if job.resumable:
            _recovery(job)
    else:
        _job_buttons(job, st, st, "watched")


def _your_jobs(mine: list[jobs.Job], everyone: list[jobs.Job], watched: str) -> None:
    """Every job of this session, each with its own buttons (the watched one is marked)."""
    st.subheader(f"Your jobs ({len(mine)})")
    for job in mine:
        with st.container(border=True, key=f"job-row-{job.id}"):
            cols = st.columns([5, 1.2, 1.2, 1.2], vertical_alignment="center")
            place = jobs.queue_place(job, everyone)
            queued = f" · {_ordinal(place)} in line" if place else ""
            progress = float(job.status.get("progress", 0.0))
            made = len(job.status.get("runs", []))
            updated = str(job.status.get("updated", "")).replace("T", " ").replace("+00:00", " UTC")
            cols[0].markdown(
                f"`{job.id}` — **{job.state}**{queued} · {progress:.0%} · "
                f"{made} run{'' if made == 1 else 's'} · updated {updated}"
            )
            _job_buttons(job, cols[1], cols[2], "list")
            if str(job.path) == watched:
                cols[3].caption("shown above")
            else:
                cols[3].button("Show", key=f"list.show-{job.id}", on_click=_watch, args=(job,))
            _refused(job)


def _jobs_table(shown: list[jobs.Job], everyone: list[jobs.Job], me: str) -> None:
    st.dataframe(
        pd.DataFrame(
            {
                "job": [j.id for j in shown],
                "started by": ["you" if j.owner == me else "another session" for j in shown],
                "state": [j.state for j in shown],
                "place in queue": [jobs.queue_place(j, everyone) or None for j in shown],
                "progress": [float(j.status.get("progress", 0.0)) for j in shown],
                "runs": [len(j.status.get("runs", [])) for j in shown],
                "updated": [j.status.get("updated", "") for j in shown],
            }
        ),
        column_config={"progress": st.column_config.ProgressColumn("progress")},
        hide_index=True,
    )


def _design_form() -> None:
    scenario, error = state.check(state.design())
    if error:
        st.error(f"error: {error}", icon=":material/error:")
        nav.link("design", "Fix the design", icon=":material/edit:")
        return
    st.markdown(
        f"**{scenario.name}** — {scenario.description or 'no description'}  \n"
        f"World: `{scenario.world.kind}` with {scenario.num_agents} agents · mechanisms: "
        f"`{scenario.mechanism_label}`"
    )
    cols = st.columns(3)
    count = numbers.number_box(
        "Seeds",
        3,
        int,
        low=1,
        high=MAX_SEEDS,
        key="run_seeds",
        help="Independent runs with seeds first, first+1, ...; each gives a run directory. "
        f"Allowed: 1 to {MAX_SEEDS}.",
        where=cols[0],
    )
    first = numbers.number_box(
        "First seed",
        int(scenario.evaluation.seed),
        int,
        low=0,
        high=MAX_SEED,
        key="run_first_seed",
        help=f"Seed of the first run; seeds make runs reproducible. Allowed: 0 to {MAX_SEED:,}.",
        where=cols[1],
    )
    per_episode = limits.rows_per_episode(scenario)
    most = max(limits.MAX_RECORDED_ROWS // per_episode, 1)
    episodes = numbers.number_box(
        "Evaluation episodes",
        min(int(scenario.evaluation.episodes), most),
        int,
        low=1,
        key="run_episodes",
        help="Episodes per seed, run in parallel as one batch; more episodes give tighter "
        f"confidence intervals. Allowed: 1 to {most} for this design (a run keeps at most "
        f"{limits.MAX_RECORDED_ROWS:,} rows of episodes x steps x agents).",
        where=cols[2],
    )
    boxes_ok = not any(box.error for box in (count, first, episodes))
    too_big = limits.record_size_error(scenario, int(episodes.value)) if boxes_ok else None
    if too_big:
        st.error(f"error: {too_big}", icon=":material/error:")
    st.button(
        "Start run",
        type="primary",
        on_click=_start,
        args=(scenario,),
        disabled=bool(too_big) or not boxes_ok,
    )
    _collision_choices(scenario)


def render() -> None:
    st.title("Run the design")
    st.caption(
        "Runs go on in a background process: you can leave this page or close the tab, and the "
        "results still appear on the Compare page. Each seed writes one run directory. Jobs run "
        f"{jobqueue.max_jobs()} at a time; the others wait in a queue."
    )
    _design_form()

    me = session.current()
    everyone = jobs.list_jobs(runs_dir())
    mine = [j for j in everyone if j.owner == me]
    view = st.segmented_control(
        "Jobs", [VIEW_MINE, VIEW_ALL], default=VIEW_MINE, key="jobs_view",
        help="Your jobs are those started in this browser session; all jobs includes other "
        "sessions' (shown without their buttons).",
    )  # fmt: skip
    if view == VIEW_ALL:
        if not everyone:
            st.info("No runs started from the app yet.")
        else:
            _jobs_table(everyone, everyone, me)
        return
    active = st.session_state.get(ACTIVE)
    if active not in {str(j.path) for j in mine}:
        active = str(mine[0].path) if mine else None
    if active is None:
        st.info("No runs started from this session yet.")
        return
    running = not jobs.load(active).finished

    @st.fragment(run_every=1.0 if running else None)
    def watch() -> None:
        job = jobs.load(active)
        if job.state == "queued":
            jobqueue.dispatch(runs_dir())  # picks up slots left by a worker that was killed
            job = jobs.load(active)
        st.subheader("Progress")
        _show_job(job, jobs.list_jobs(runs_dir()) if job.state == "queued" else everyone)
        if running and job.finished:
            st.rerun()

    watch()
    if len(mine) > 1:
        _your_jobs(mine, everyone, active)
