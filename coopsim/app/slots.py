"""The app's process slots: who holds them (job workers and sweeps) and who gets the next one.

Why one count for both: ``coopsim app --max-jobs N`` promises at most N busy torch processes,
and a sweep launched from the Sweep page is such a process (or several, one per worker). Left
out of the count, a 4-worker sweep ran beside two job workers in a 2-slot app. So a sweep asks
for its workers with a *lease* file under ``<runs>/.jobs/.leases/``, waits in the same line as
the queued jobs, and gets at most the slots that are free when its turn comes.

A slot is held by

- a job whose worker is alive: running, or stopped and still unwinding (a stopped worker
  writes its checkpoint as it ends, so the next job waits for it rather than run beside it;
  the worker starts the next job itself as it exits), and
- a sweep's granted lease while the app server that runs it is alive.

Processes are recognised by pid *and* start time, so a recycled pid never holds a slot.
:func:`plan` is the pure accounting; :mod:`coopsim.app.jobqueue` applies it under its lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coopsim.paths import inside, slug
from coopsim.record import atomic_write_text

JOBS = ".jobs"  # the folder of app jobs in a runs folder; leases live inside it
LEASES = ".leases"
WAITING, GRANTED = "waiting", "granted"


def process_start(pid: int | None) -> int | None:
    """When ``pid`` started (clock ticks since boot), or None where ``/proc`` cannot say."""
    if not pid:
        return None
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[19])
    return None


def pid_alive(pid: int | None) -> bool:
    """Whether ``pid`` is a live process (a zombie, dead but not yet reaped, is not)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError, IndexError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def holder_alive(pid: int | None, start: int | None) -> bool:
    """Whether the process ``pid`` that started at ``start`` still lives (not a zombie, and
    not another process that was given the same pid since)."""
    if not pid_alive(pid):
        return False
    return start is None or process_start(pid) in (None, start)


@dataclass(frozen=True)
class Lease:
    """A sweep's claim on slots: waiting in line, or granted ``slots`` of them."""

    path: Path
    name: str
    wanted: int
    slots: int
    state: str
    queued_ns: int
    pid: int | None
    start: int | None

    @property
    def alive(self) -> bool:
        return holder_alive(self.pid, self.start)


def _lease_dir(runs_dir: str | os.PathLike) -> Path:
    return Path(runs_dir) / JOBS / LEASES


def _read_lease(path: Path) -> Lease | None:
    try:
        data = json.loads(path.read_text())
        return Lease(
            path=path,
            name=str(data["name"]),
            wanted=int(data["wanted"]),
            slots=int(data.get("slots", 0)),
            state=str(data["state"]),
            queued_ns=int(data["queued_ns"]),
            pid=data.get("pid"),
            start=data.get("start"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_lease(lease: Lease) -> None:
    record: dict[str, Any] = {
        "name": lease.name,
        "wanted": lease.wanted,
        "slots": lease.slots,
        "state": lease.state,
        "queued_ns": lease.queued_ns,
        "pid": lease.pid,
        "start": lease.start,
    }
    atomic_write_text(lease.path, json.dumps(record, indent=2) + "\n")


def list_leases(runs_dir: str | os.PathLike) -> list[Lease]:
    """Every readable lease under ``runs_dir``, dead holders' included."""
    folder = _lease_dir(runs_dir)
    if not folder.is_dir():
        return []
    found = (_read_lease(p) for p in sorted(folder.glob("*.json")))
    return [lease for lease in found if lease is not None]


def ask(runs_dir: str | os.PathLike, name: str, wanted: int) -> Lease:
    """Queue a lease of this process for ``wanted`` slots (granted by a later dispatch)."""
    if wanted < 1:
        raise ValueError(f"workers: got {wanted}, must be >= 1")
    pid = os.getpid()
    lease = Lease(
        path=inside(_lease_dir(runs_dir), f"{slug(name)}.json"),
        name=name,
        wanted=int(wanted),
        slots=0,
        state=WAITING,
        queued_ns=time.time_ns(),
        pid=pid,
        start=process_start(pid),
    )
    lease.path.parent.mkdir(parents=True, exist_ok=True)
    _write_lease(lease)
    return lease


def read(lease: Lease) -> Lease | None:
    """The lease as it stands now (None once released)."""
    return _read_lease(lease.path)


def release(lease: Lease) -> None:
    with contextlib.suppress(FileNotFoundError):
        lease.path.unlink()


def grant(lease: Lease, slots: int) -> Lease:
    granted = Lease(**{**lease.__dict__, "slots": int(slots), "state": GRANTED})
    _write_lease(granted)
    return granted


def job_holds_slot(job: Any, exclude_pid: int | None = None) -> bool:
    """Whether ``job`` (a :class:`coopsim.app.jobs.Job`) keeps a slot busy.

    A running job always does (a worker that died reads as interrupted, see
    :func:`coopsim.app.jobs.load`); a finished one does while its worker still ends, unless
    that worker is ``exclude_pid``: the caller itself, handing its slot on as it exits.
    """
    if job.state == "running":
        return True
    if job.state == "queued":
        return False
    pid = job.status.get("pid")
    if not pid or pid == exclude_pid:
        return False
    return holder_alive(pid, job.status.get("pid_start"))


@dataclass(frozen=True)
class Plan:
    """What a dispatch does: the jobs it starts and the slots it grants each waiting lease."""

    start: list[Any]
    grants: dict[Path, int]
    busy: int  # slots in use before it acts


def plan(jobs: list[Any], leases: list[Lease], limit: int, exclude_pid: int | None = None) -> Plan:
    """Fill the free slots from one line of queued jobs and waiting sweeps, oldest first.

    A queued job that would train in the folder a running job trains in is passed over (the
    ones behind it may go); a waiting sweep gets ``min(wanted, free)`` slots, at least one.
    Leases of dead holders count for nothing.
    """
    live = [lease for lease in leases if lease.alive]
    holding = [j for j in jobs if job_holds_slot(j, exclude_pid)]
    busy = len(holding) + sum(lease.slots for lease in live if lease.state == GRANTED)
    keys: set[str] = set().union(*(j.keys for j in holding if j.state == "running"))
    free = limit - busy
    line: list[tuple[int, str, Any]] = [
        (j.queued_ns, "job", j) for j in jobs if j.state == "queued"
    ] + [(lease.queued_ns, "lease", lease) for lease in live if lease.state == WAITING]
    started, grants = [], {}
    for _, what, item in sorted(line, key=lambda entry: (entry[0], entry[1])):
        if free <= 0:
            break
        if what == "job":
            if item.keys & keys:
                continue
            started.append(item)
            keys |= item.keys
            free -= 1
        else:
            grants[item.path] = min(item.wanted, free)
            free -= grants[item.path]
    return Plan(started, grants, busy)


def in_use(jobs: list[Any], leases: list[Lease]) -> int:
    """Slots busy now (what the pages show as 'k of N job slots are busy')."""
    return plan(jobs, leases, limit=0).busy
