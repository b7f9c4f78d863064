"""Runs started from the app, in detached worker processes that outlive the browser tab.

:func:`start` writes the design and a job description to ``<runs>/.jobs/<id>/`` and starts
``python -m coopsim.app.jobs <job dir>`` in its own session, so closing the tab (or stopping the
page's script) does not stop the run. The worker runs the design once per seed through
:func:`coopsim.runner.run_scenario`, so each result is an ordinary run directory in ``<runs>``,
and after every step rewrites ``status.json`` atomically; the Run page polls that file.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from coopsim.paths import inside, redact, slug
from coopsim.record import atomic_write_text

JOBS = ".jobs"
STATUS = "status.json"
JOB = "job.json"
DESIGN = "design.toml"
LOG = "log.txt"
# Metrics the Run page charts while a job goes on (all in the run summary).
LIVE_METRICS = ("productivity", "equality", "contribution_rate", "utilitarian_welfare")

_children: dict[int, subprocess.Popen] = {}  # reaped by status() so no zombies pile up


@dataclass
class Job:
    """A job's folder and its last reported status."""

    path: Path
    status: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def state(self) -> str:
        return self.status.get("state", "queued")

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "stopped")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_status(job_dir: Path, **update: Any) -> dict[str, Any]:
    """Merge ``update`` into the job's status file (atomic: readers never see half a file)."""
    path = Path(job_dir) / STATUS
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(update, updated=_now())
    atomic_write_text(path, json.dumps(current, indent=2) + "\n")
    return current


def prepare(
    design_toml: str,
    runs_dir: str | os.PathLike,
    *,
    seeds: list[int],
    episodes: int | None = None,
    name: str = "design",
) -> Job:
    """Write a job's folder (design, job description, queued status) without starting it."""
    if not seeds:
        raise ValueError("seeds: give at least one seed")
    runs_dir = Path(runs_dir).resolve()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    job_name = f"{slug(name)}-{stamp}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    job_dir = inside(runs_dir / JOBS, job_name)
    job_dir.mkdir(parents=True)
    atomic_write_text(job_dir / DESIGN, design_toml)
    spec = {"design": DESIGN, "seeds": list(seeds), "episodes": episodes, "out": str(runs_dir)}
    atomic_write_text(job_dir / JOB, json.dumps(spec, indent=2) + "\n")
    status = write_status(
        job_dir, state="queued", name=name, progress=0.0, message="starting", runs=[]
    )
    return Job(job_dir, status)


def launch(job: Job) -> Job:
    """Start the job's detached worker (its own session, so it outlives the page)."""
    with open(job.path / LOG, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "coopsim.app.jobs", str(job.path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=os.getcwd(),
        )
    _children[proc.pid] = proc
    return Job(job.path, write_status(job.path, pid=proc.pid))


def start(
    design_toml: str,
    runs_dir: str | os.PathLike,
    *,
    seeds: list[int],
    episodes: int | None = None,
    name: str = "design",
) -> Job:
    """Start a detached worker for ``design_toml`` (one run per seed); returns at once."""
    return launch(prepare(design_toml, runs_dir, seeds=seeds, episodes=episodes, name=name))


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    proc = _children.get(pid)
    if proc is not None:
        return proc.poll() is None
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def load(job_dir: str | os.PathLike) -> Job:
    """A job with its current status; a worker that died without saying so reads as failed."""
    job_dir = Path(job_dir)
    path = job_dir / STATUS
    status = json.loads(path.read_text()) if path.exists() else {}
    if status.get("state") in ("queued", "running") and not _alive(status.get("pid")):
        # Re-read: the worker may have finished between the two reads.
        status = json.loads(path.read_text()) if path.exists() else status
        if status.get("state") in ("queued", "running"):
            log = job_dir / LOG
            tail = log.read_text()[-2000:] if log.exists() else ""
            error = redact(f"the worker exited unexpectedly\n{tail}".strip(), {".": os.getcwd()})
            status = write_status(job_dir, state="failed", error=error)
    return Job(job_dir, status)


def list_jobs(runs_dir: str | os.PathLike) -> list[Job]:
    """Every job under ``runs_dir``, newest first."""
    folder = Path(runs_dir) / JOBS
    if not folder.is_dir():
        return []
    dirs = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    return [load(p) for p in reversed(dirs)]


def stop(job: Job) -> None:
    """Stop a running job's worker (its whole process group)."""
    pid = job.status.get("pid")
    if pid and _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    write_status(job.path, state="stopped", message="stopped by the user")


# -- the worker -----------------------------------------------------------------------------------
def work(job_dir: Path) -> int:
    """Run the job in this process: one run directory per seed, status after each step."""
    from coopsim import scenario as sc
    from coopsim.runner import run_scenario

    spec = json.loads((job_dir / JOB).read_text())
    seeds = spec["seeds"]
    try:
        scenario = sc.load(job_dir / spec["design"])
        accepts_progress = "progress" in inspect.signature(run_scenario).parameters
        runs: list[str] = []
        live: list[dict[str, Any]] = []
        for k, seed in enumerate(seeds):
            write_status(
                job_dir,
                state="running",
                progress=k / len(seeds),
                message=f"seed {seed} ({k + 1} of {len(seeds)})",
                started=_now() if k == 0 else json.loads((job_dir / STATUS).read_text())["started"],
            )
            kwargs: dict[str, Any] = {}
            if accepts_progress:
                kwargs["progress"] = _progress_reporter(job_dir, k, len(seeds))
            path = run_scenario(
                scenario, seed=seed, out=spec["out"], episodes=spec.get("episodes"), **kwargs
            )
            summary = json.loads((Path(path) / "summary.json").read_text())
            metrics = summary.get("metrics", {})
            live.append(
                {"seed": seed, **{m: metrics[m]["mean"] for m in LIVE_METRICS if m in metrics}}
            )
            runs.append(str(path))
            write_status(job_dir, progress=(k + 1) / len(seeds), runs=runs, live=live)
        write_status(job_dir, state="done", progress=1.0, message="finished", finished=_now())
        return 0
    except Exception as err:  # reported to the page, which shows it like the CLI would
        write_status(
            job_dir,
            state="failed",
            error=redact(str(err), {"<runs>": spec["out"], "<job>": job_dir, ".": os.getcwd()}),
            traceback=traceback.format_exc(),
            finished=_now(),
        )
        return 1


def _progress_reporter(job_dir: Path, k: int, n: int):
    """A callback for runners that report training progress: (done, total, metrics)."""

    def report(done: int, total: int, metrics: dict[str, float] | None = None) -> None:
        status = json.loads((job_dir / STATUS).read_text())
        history = status.get("iterations", [])
        if metrics:
            history.append({"iteration": done, **metrics})
        write_status(job_dir, progress=(k + done / max(total, 1)) / n, iterations=history)

    return report


if __name__ == "__main__":  # pragma: no cover - exercised through start()
    sys.exit(work(Path(sys.argv[1])))
