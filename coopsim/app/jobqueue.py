"""The job queue: at most ``max_jobs`` busy processes at once per runs folder, the rest wait.

Why a queue: each worker is a whole torch process, and on a small machine six of them at once
took longer in all than one after another (threads fighting for two cores) while the pages
stalled. :func:`dispatch` starts the oldest queued jobs, and grants the sweeps launched from
the app their workers, while slots are free (:mod:`coopsim.app.slots` counts them). It
holds a lock on ``<runs>/.jobs/.dispatch.lock``, so two sessions, or two app servers on one
runs folder, never both fill the same free slot. It runs when a job is queued, stopped or
resumed, whenever the Run page polls, and in every worker as it ends, so the queue moves on
even with no browser open.

Workers are started in their own session (closing the tab or restarting the app leaves them
running), with one torch thread each, and a thread of the starting process waits for each one,
so finished workers are reaped instead of lingering as zombies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from coopsim.app import jobs, slots
from coopsim.app.jobs import JOBS, LOG, Job

DISPATCH_LOCK = ".dispatch.lock"
MAX_JOBS_ENV = "COOPSIM_MAX_JOBS"
# One thread per worker: max_jobs workers then use max_jobs cores between them.
WORKER_THREADS_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def default_max_jobs() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - no affinity (macOS)
        return max(1, os.cpu_count() or 1)


def max_jobs() -> int:
    """The limit set by ``coopsim app --max-jobs`` (``COOPSIM_MAX_JOBS``), else one per core."""
    text = os.environ.get(MAX_JOBS_ENV, "").strip()
    if not text:
        return default_max_jobs()
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{MAX_JOBS_ENV}: got {text!r}, must be an integer >= 1")
    return value


@contextlib.contextmanager
def _dispatch_locked(runs_dir: Path) -> Iterator[None]:
    folder = runs_dir / JOBS
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / DISPATCH_LOCK, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _reap(proc: subprocess.Popen) -> None:
    """Wait for a worker in a background thread, so it never stays behind as a zombie."""
    threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()


def launch(job: Job) -> Job:
    """Start the job's worker now, detached; callers go through :func:`dispatch` instead."""
    env = {**os.environ, **WORKER_THREADS_ENV}
    with open(job.path / LOG, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "coopsim.app.worker", str(job.path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=os.getcwd(),
            env=env,
        )
    _reap(proc)
    status = jobs.write_status(
        job.path,
        state="running",
        pid=proc.pid,
        pid_start=slots.process_start(proc.pid),
        message="starting",
        launched_ns=time.time_ns(),
    )
    return Job(job.path, job.spec, status)


def dispatch(runs_dir: str | os.PathLike, limit: int | None = None) -> list[Job]:
    """Fill free slots, oldest first: start queued jobs and grant waiting sweeps their workers.

    A queued job that would train in the same unfinished-run folder as a running one (same
    scenario and seed) waits for it, and the jobs behind it may go first. The calling process,
    when it is a worker that has just finished, hands its own slot on. Returns the jobs started.
    """
    runs_dir = Path(runs_dir)
    limit = max_jobs() if limit is None else limit
    with _dispatch_locked(runs_dir):
        leases = slots.list_leases(runs_dir)
        for dead in (lease for lease in leases if not lease.alive):
            slots.release(dead)  # its app server is gone: the sweep no longer runs
        todo = slots.plan(jobs.list_jobs(runs_dir), leases, limit, exclude_pid=os.getpid())
        for lease in leases:
            if lease.path in todo.grants:
                slots.grant(lease, todo.grants[lease.path])
        return [launch(job) for job in todo.start]


def slots_busy(runs_dir: str | os.PathLike) -> int:
    """Slots in use now in ``runs_dir``: job workers and sweeps' granted workers."""
    return slots.in_use(jobs.list_jobs(runs_dir), slots.list_leases(runs_dir))


def start(
    design_toml: str,
    runs_dir: str | os.PathLike,
    *,
    seeds: list[int],
    episodes: int | None = None,
    name: str = "design",
    owner: str = "",
    keys: list[str] | tuple[str, ...] = (),
    limit: int | None = None,
) -> Job:
    """Queue a job for ``design_toml`` (one run per seed) and start it if a slot is free."""
    limit = max_jobs() if limit is None else limit
    job = jobs.prepare(
        design_toml,
        runs_dir,
        seeds=seeds,
        episodes=episodes,
        name=name,
        owner=owner,
        keys=keys,
        max_jobs=limit,
    )
    dispatch(runs_dir, limit)
    return jobs.load(job.path)


def resume(job: Job, limit: int | None = None) -> Job:
    """Queue a stopped or interrupted job again; it runs the seeds it has not finished.

    A learning run picks up from its last checkpoint (the runner finds the unfinished folder).
    """
    if not job.resumable:
        raise ValueError(f"job {job.id} is {job.state} with nothing left to run")
    jobs.write_status(
        job.path,
        state="queued",
        message="waiting for a free slot",
        error=None,
        pid=None,
        queued_ns=time.time_ns(),
    )
    dispatch(job.spec["out"], limit)
    return jobs.load(job.path)


def stop(job: Job, limit: int | None = None) -> None:
    """Stop the job and give its slot to the next one in the queue."""
    jobs.stop(job)
    dispatch(job.spec.get("out", job.path.parent.parent), limit)
