"""Sweep page: set up a sweep of a scenario's fields over seeds, launch it, watch it, view it.

A launched sweep runs in a thread of the app's server (its cells in worker processes when more
than one worker is asked for). Its workers are processes like the Run page's jobs, so they take
slots of the same ``--max-jobs`` limit (:mod:`coopsim.app.slots`): the sweep waits in line with
the queued jobs and runs with the slots free when its turn comes, at most the workers asked
for. It writes ``<runs>/sweeps/<name>/``, the same folder
``coopsim sweep`` writes: a sweep cut short by a restart of the app resumes when it is launched
again with the same settings, or from the command line. The page watches the folder's
progress with ``st.progress`` and then shows the findings, the cells' means and the sweep
figure (:mod:`coopsim.analysis.sweeps`).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import streamlit as st

from coopsim import scenario as sc
from coopsim.analysis.sweep_figure import sweep_figure
from coopsim.analysis.sweeps import cell_means, findings
from coopsim.app import jobqueue, numbers, runs_dir, shown, slots
from coopsim.app.state import sources
from coopsim.measures import MEASURES
from coopsim.paths import inside, slug
from coopsim.record import SWEEP_TABLE, load_sweep
from coopsim.schema import ConfigError
from coopsim.sweeps import SweepSpec, parse_set, run_sweep
from coopsim.sweeps.driver import plan

# Sweeps launched from this server: folder -> {"done", "total", "error", "finished"}.
_LAUNCHED: dict[str, dict[str, Any]] = {}
_LOCK = threading.Lock()


def sweeps_dir() -> Path:
    return runs_dir() / "sweeps"


def _status(folder: str) -> dict[str, Any] | None:
    with _LOCK:
        found = _LAUNCHED.get(folder)
        return dict(found) if found is not None else None


def _update(folder: str, **fields: Any) -> None:
    with _LOCK:
        _LAUNCHED.setdefault(folder, {}).update(fields)


#: How often a sweep waiting for a slot looks at its lease again.
WAIT_POLL_S = 0.5


def _wait_for_slots(lease: slots.Lease, folder: str, limit: int) -> int:
    """Block until a dispatch grants ``lease``; returns the workers it may run."""
    while True:
        jobqueue.dispatch(runs_dir(), limit)
        now = slots.read(lease)
        if now is not None and now.state == slots.GRANTED:
            return now.slots
        if now is None:  # removed from outside (a dispatch that thought this server dead)
            lease = slots.ask(runs_dir(), lease.name, lease.wanted)
        _update(folder, waiting=True, busy=jobqueue.slots_busy(runs_dir()), limit=limit)
        time.sleep(WAIT_POLL_S)


def _run(scenario: Any, spec: SweepSpec, folder: str, workers: int, episodes: int) -> None:
    limit = jobqueue.max_jobs()
    lease = slots.ask(runs_dir(), f"sweep-{Path(folder).name}", min(workers, limit))
    try:
        granted = _wait_for_slots(lease, folder, limit)
        _update(folder, waiting=False, workers=granted, asked=workers, limit=limit)
        run_sweep(
            scenario,
            spec,
            folder,
            workers=granted,
            episodes=episodes,
            progress=lambda done, total: _update(folder, done=done, total=total),
        )
    except Exception as err:  # noqa: BLE001 - shown on the page instead of lost in a thread
        _update(folder, error=shown.text(f"{type(err).__name__}: {err}"))
    finally:
        slots.release(lease)
        _update(folder, finished=True)
        jobqueue.dispatch(runs_dir(), limit)  # the queued jobs get the slots back


def launch(scenario: Any, spec: SweepSpec, folder: Path, workers: int, episodes: int) -> None:
    """Check every cell, then run the sweep in a background thread (one per folder)."""
    plan(scenario, spec, folder, episodes)  # a bad field or value is refused here, not later
    key = str(folder)
    running = _status(key)
    if running is not None and not running.get("finished"):
        raise ConfigError(None, "sweep", f"{folder.name} is already running")
    with _LOCK:
        _LAUNCHED[key] = {"done": 0, "total": len(spec.cells()) * len(spec.seeds)}
    args = (scenario, spec, key, workers, episodes)
    threading.Thread(target=_run, args=args, daemon=True, name=f"sweep-{folder.name}").start()


def _setup() -> None:
    st.subheader("Set up")
    choices = list(sources())
    default = choices.index("public_goods_matching") if "public_goods_matching" in choices else 0
    label = st.selectbox("Scenario", choices, index=default, key="sweep_scenario")
    try:
        scenario = sc.load(sources()[label])
    except ConfigError as err:
        st.error(shown.text(str(err)))
        return
    field = "mechanisms.0.rate" if scenario.mechanisms else "world.multiplier"
    first = st.text_input(
        "Field = values",
        f"{field}=0,0.5,1,2",
        help="A dotted field of the scenario and the values it takes, e.g. "
        "mechanisms.0.rate=0,0.5,1 or world.multiplier=1.2,1.6",
    )
    second = st.text_input(
        "Second field = values (optional)", "", help="With a second field, every combination"
    )
    cols = st.columns(3)
    seeds = numbers.number_box(
        "Seeds",
        2,
        int,
        low=1,
        high=64,
        key="sweep_seeds",
        help="Training and evaluation seeds per cell. Allowed: 1 to 64.",
        where=cols[0],
    )
    episodes = numbers.number_box(
        "Evaluation episodes",
        scenario.evaluation.episodes,
        int,
        low=1,
        high=10_000,
        key="sweep_episodes",
        help="Evaluation episodes per cell and seed. Allowed: 1 to 10,000.",
        where=cols[1],
    )
    limit = jobqueue.max_jobs()
    workers = numbers.number_box(
        "Workers",
        1,
        int,
        low=1,
        high=limit,
        key="sweep_workers",
        help=f"Processes, one torch thread each. They count against the app's limit of {limit} "
        "busy processes (`coopsim app --max-jobs`), shared with the Run page's jobs: the sweep "
        "waits in line with the queued jobs and runs with the slots free when its turn comes, "
        f"at most this many. Allowed: 1 to {limit}.",
        where=cols[2],
    )
    name = st.text_input("Sweep name", f"{scenario.name}", help="Its folder under <runs>/sweeps")
    boxes_ok = not any(box.error for box in (seeds, episodes, workers))
    if st.button("Launch sweep", type="primary", disabled=not boxes_ok):
        try:
            spec = SweepSpec(seeds=list(range(int(seeds.value))))
            for text in (first, second):
                if text.strip():
                    key, values = parse_set(text)
                    spec.grid[key] = values
            folder = inside(sweeps_dir(), slug(name))
            launch(scenario, spec, folder, int(workers.value), int(episodes.value))
        except ConfigError as err:
            st.error(shown.text(str(err)))
            return
        st.session_state["sweep_view"] = folder.name
        st.success(
            f"Launched {len(spec.cells())} cells x {len(spec.seeds)} seeds into "
            f"{shown.path(folder)}"
        )


def _slots_text(now: dict[str, Any]) -> str:
    """Where the sweep stands with the app's process slots."""
    if now.get("waiting"):
        return (
            f"Waiting for a free slot: {now.get('busy', '?')} of {now.get('limit', '?')} are "
            "busy with jobs and sweeps; it starts by itself when one frees up."
        )
    if "workers" not in now:
        return "Asking for its workers' slots."
    workers, asked = int(now["workers"]), int(now.get("asked", now["workers"]))
    text = f"Runs with {workers} worker{'s' if workers != 1 else ''}"
    if workers < asked:
        text += f" of the {asked} asked for: only {workers} of {now.get('limit')} slots were free"
    return text + "."


def _existing() -> list[str]:
    folder = sweeps_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / SWEEP_TABLE).is_file())


def cell_table(table, metric: str):
    """The cells' means as a reader scans them: each field in words, the measure's label,
    ``mean [low, high]`` to the interval's precision (no ``847.9999``), the seeds counted and a
    zero-width interval said as such."""
    import pandas as pd

    from coopsim.analysis.sweeps import field_words
    from coopsim.intervals import zero_width_reason
    from coopsim.report import numbers

    means = cell_means(table, metric)
    fields = [c for c in means.columns if c not in ("mean", "ci_low", "ci_high", "std", "n")]
    label = MEASURES[metric].label if metric in MEASURES else metric
    rows = []
    for _, r in means.iterrows():
        row = {field_words(f): f"{v:g}" if isinstance(v := r[f], float) else v for f in fields}
        mean, low, high = float(r["mean"]), float(r["ci_low"]), float(r["ci_high"])
        reason = zero_width_reason(int(r["n"]), float(r["std"])) if not high > low else None
        if reason is None:
            row[f"{label}, mean [95% interval]"] = numbers.estimate(mean, low, high)
        else:
            value = numbers.number(mean, numbers.decimals(mean))
            row[f"{label}, mean [95% interval]"] = f"{value} (zero width: {reason})"
        row["seeds"] = int(r["n"])
        rows.append(row)
    return pd.DataFrame(rows)


def _view(name: str) -> None:
    folder = inside(sweeps_dir(), name)
    status = _status(str(folder))
    running = status is not None and not status.get("finished")

    @st.fragment(run_every=1.0 if running else None)
    def watch() -> None:
        now = _status(str(folder))
        if now is not None:
            total = max(int(now.get("total", 1)), 1)
            done = int(now.get("done", 0))
            st.progress(done / total, text=f"{done} of {total} runs done")
            st.caption(_slots_text(now))
            if now.get("error"):
                st.error(now["error"])
            if running and now.get("finished"):
                st.rerun()

    watch()
    if not (folder / SWEEP_TABLE).is_file():
        st.info("The sweep's table appears when its first runs finish.")
        return
    table = load_sweep(folder)
    measured = [m for m in MEASURES if m in table.columns]
    metric = st.selectbox(
        "Measure",
        measured,
        index=measured.index("objective") if "objective" in measured else 0,
        key="sweep_metric",
        format_func=lambda m: MEASURES[m].label,
    )
    ok = table[table["status"] == "ok"]
    if ok.empty:
        st.warning("No cell has finished yet.")
        return
    for line in findings(table, metric):
        st.markdown(f"- {line}")
    st.dataframe(cell_table(table, metric), hide_index=True)
    st.pyplot(sweep_figure(table, metric))
    with st.expander(f"Every run ({len(table)})"):
        st.dataframe(table, hide_index=True)


def render() -> None:
    st.title("Sweep")
    st.caption(
        "Vary a scenario's fields over a grid, each cell at several seeds; every cell x seed "
        "is an ordinary run directory, gathered in one table (the same as `coopsim sweep`)."
    )
    _setup()
    st.subheader("Sweeps")
    names = _existing()
    wanted = st.session_state.get("sweep_view")
    if wanted is not None and wanted not in names:
        names = [wanted, *names]
    if not names:
        st.info("No sweeps yet.")
        return
    index = names.index(wanted) if wanted in names else 0
    _view(st.selectbox("Sweep", names, index=index))
