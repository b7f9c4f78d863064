"""A job started from the app: its folder under ``<runs>/.jobs/<id>/`` and the status in it.

The folder holds ``design.toml`` (what to run), ``job.json`` (seeds, episodes, the browser
session that started it, the limits it was queued under) and ``status.json``, which the worker
and the app rewrite atomically and under a lock, so neither loses the other's update. This
module only reads and writes those files; :mod:`coopsim.app.jobqueue` starts workers and
:mod:`coopsim.app.worker` is the worker.

States: ``queued`` (waiting for a free slot), ``running``, ``done``, ``failed`` (the run raised
an error), ``stopped`` (by its user), ``interrupted`` (its worker died without saying so) and
``discarded`` (its unfinished runs deleted). A stopped or interrupted job with seeds left can
be resumed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from coopsim.app.slots import JOBS, holder_alive, pid_alive  # noqa: F401 - pid_alive re-exported
from coopsim.paths import inside, redact, slug
from coopsim.record import atomic_write_text

STATUS = "status.json"
STATUS_LOCK = ".status.lock"
JOB = "job.json"
DESIGN = "design.toml"
LOG = "log.txt"
ACTIVE = ("queued", "running")
RESUMABLE = ("stopped", "interrupted")
# Measures of the registry (coopsim.measures) that the Run page charts as a job's seeds finish.
LIVE_METRICS = ("productivity", "equality", "contribution_rate", "utilitarian_welfare")


@dataclass
class Job:
    """A job's folder, what it was asked to do (``job.json``) and its last reported status."""

    path: Path
    spec: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def state(self) -> str:
        return self.status.get("state", "queued")

    @property
    def finished(self) -> bool:
        return self.state not in ACTIVE

    @property
    def owner(self) -> str:
        """The browser session that started the job ('' for jobs started outside a session)."""
        return self.spec.get("owner", "")

    @property
    def seeds(self) -> list[int]:
        return list(self.spec.get("seeds", []))

    @property
    def remaining_seeds(self) -> list[int]:
        """Seeds that have no run directory yet."""
        done = set(self.status.get("done_seeds", []))
        return [s for s in self.seeds if s not in done]

    @property
    def keys(self) -> set[str]:
        """What two jobs must not run at once: the unfinished-run folders they train in."""
        return set(self.spec.get("keys", []))

    @property
    def resumable(self) -> bool:
        return self.state in RESUMABLE and bool(self.remaining_seeds)

    @property
    def queued_ns(self) -> int:
        return int(self.status.get("queued_ns", self.spec.get("created_ns", 0)))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@contextlib.contextmanager
def _status_locked(job_dir: Path) -> Iterator[None]:
    """Serialise read-modify-write of one job's status between the worker and the app."""
    fd = os.open(job_dir / STATUS_LOCK, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def write_status(job_dir: Path, **update: Any) -> dict[str, Any]:
    """Merge ``update`` into the job's status file (atomic: readers never see half a file)."""
    job_dir = Path(job_dir)
    with _status_locked(job_dir):
        current = _read_json(job_dir / STATUS)
        current.update(update, updated=_now())
        atomic_write_text(job_dir / STATUS, json.dumps(current, indent=2) + "\n")
    return current


def prepare(
    design_toml: str,
    runs_dir: str | os.PathLike,
    *,
    seeds: list[int],
    episodes: int | None = None,
    name: str = "design",
    owner: str = "",
    keys: list[str] | tuple[str, ...] = (),
    max_jobs: int = 1,
) -> Job:
    """Write a queued job's folder; :func:`coopsim.app.jobqueue.dispatch` starts it.

    ``keys`` name what the job trains in (see :func:`coopsim.app.recovery.collision_keys`);
    ``max_jobs`` is the limit the worker keeps to when it starts the next queued job.
    """
    if not seeds:
        raise ValueError("seeds: give at least one seed")
    runs_dir = Path(runs_dir).resolve()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    job_name = f"{slug(name)}-{stamp}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    job_dir = inside(runs_dir / JOBS, job_name)
    job_dir.mkdir(parents=True)
    atomic_write_text(job_dir / DESIGN, design_toml)
    spec = {
        "design": DESIGN,
        "name": name,
        "seeds": list(seeds),
        "episodes": episodes,
        "out": str(runs_dir),
        "owner": owner,
        "keys": list(keys),
        "max_jobs": int(max_jobs),
        "created_ns": time.time_ns(),
    }
    atomic_write_text(job_dir / JOB, json.dumps(spec, indent=2) + "\n")
    status = write_status(
        job_dir,
        state="queued",
        name=name,
        progress=0.0,
        message="waiting for a free slot",
        runs=[],
        done_seeds=[],
        queued_ns=time.time_ns(),
    )
    return Job(job_dir, spec, status)


def load(job_dir: str | os.PathLike) -> Job:
    """A job with its current status; a worker that died without saying so reads as interrupted."""
    job_dir = Path(job_dir)
    spec = _read_json(job_dir / JOB)
    status = _read_json(job_dir / STATUS)
    if status.get("state") == "running" and not _worker_alive(status):
        with _status_locked(job_dir):
            # Re-read under the lock: the worker may have finished between the two reads.
            status = _read_json(job_dir / STATUS)
            if status.get("state") == "running" and not _worker_alive(status):
                log = job_dir / LOG
                tail = log.read_text()[-2000:] if log.exists() else ""
                status.update(
                    state="interrupted",
                    message="interrupted",
                    error=redact(
                        f"its worker stopped unexpectedly\n{tail}".strip(), _folders(spec)
                    ),
                    updated=_now(),
                )
                atomic_write_text(job_dir / STATUS, json.dumps(status, indent=2) + "\n")
    return Job(job_dir, spec, status)


def _worker_alive(status: dict[str, Any]) -> bool:
    """Whether the job's worker lives (the same process: a recycled pid does not count)."""
    return holder_alive(status.get("pid"), status.get("pid_start"))


def _folders(spec: dict[str, Any]) -> dict[str, str]:
    """Folders whose server paths messages shown in a browser replace by a label."""
    folders = {".": os.getcwd()}
    if spec.get("out"):
        folders["<runs>"] = spec["out"]
    return folders


def list_jobs(runs_dir: str | os.PathLike) -> list[Job]:
    """Every job under ``runs_dir``, newest first."""
    folder = Path(runs_dir) / JOBS
    if not folder.is_dir():
        return []
    found = [load(p) for p in folder.iterdir() if p.is_dir() and (p / JOB).exists()]
    return sorted(found, key=lambda j: j.spec.get("created_ns", 0), reverse=True)


def queue_place(job: Job, jobs: list[Job]) -> int:
    """1 for the next queued job to start, 2 for the one after it, ...; 0 if not queued."""
    if job.state != "queued":
        return 0
    waiting = sorted((j for j in jobs if j.state == "queued"), key=lambda j: (j.queued_ns, j.id))
    return 1 + [j.id for j in waiting].index(job.id)


def stop(job: Job) -> None:
    """Stop a job: end a running worker (its whole process group), or take it out of the queue."""
    pid = job.status.get("pid")
    if job.state == "running" and _worker_alive(job.status):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    write_status(
        job.path, state="stopped", message="stopped by the user", finished_ns=time.time_ns()
    )
