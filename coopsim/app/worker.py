"""The worker of one app job: ``python -m coopsim.app.worker <job dir>``.

It runs the job's design once per seed it has not finished, through
:func:`coopsim.runner.run_scenario`, so each result is an ordinary run directory, and reports
progress in the job's ``status.json``. When it ends, however it ends short of being killed, it
starts the next queued job. Stopping it (SIGTERM) unwinds normally, so an evaluation run's
staging folder is removed and a learning run keeps its checkpoints for a resume.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from coopsim.app import jobqueue, jobs, limits
from coopsim.app.jobs import DESIGN, JOB, LIVE_METRICS, STATUS
from coopsim.paths import redact

# Training rows kept in status.json for the live chart; older ones are thinned out, so the
# file (read every second by the Run page) stays small however long a run trains.
MAX_LIVE_ITERATIONS = 500


class JobError(RuntimeError):
    """A job that cannot run as asked; the message is shown on the Run page as it is."""


def _stop_on_sigterm() -> None:
    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def work(job_dir: str | os.PathLike) -> int:
    """Run the job in this process; 0 when every seed has its run directory."""
    job_dir = Path(job_dir)
    spec = json.loads((job_dir / JOB).read_text())
    try:
        return _run(job_dir, spec)
    finally:
        jobqueue.dispatch(spec["out"], int(spec.get("max_jobs", 1)))


def _run(job_dir: Path, spec: dict[str, Any]) -> int:
    import torch

    from coopsim import scenario as sc
    from coopsim.app import recovery
    from coopsim.runner import run_scenario
    from coopsim.staging import RunBusy

    torch.set_num_threads(1)
    status = json.loads((job_dir / STATUS).read_text())
    jobs.write_status(job_dir, state="running", pid=os.getpid(), started_ns=time.time_ns())
    seeds = list(spec["seeds"])
    runs: list[str] = list(status.get("runs", []))
    live: list[dict[str, Any]] = list(status.get("live", []))
    done: list[int] = list(status.get("done_seeds", []))
    seed = None
    try:
        scenario = sc.load(job_dir / spec.get("design", DESIGN))
        episodes = spec.get("episodes") or scenario.evaluation.episodes
        too_big = limits.record_size_error(scenario, episodes)
        if too_big:
            raise JobError(too_big)
        for k, seed in enumerate(seeds):
            if seed in done:
                continue
            found = recovery.unfinished(scenario, seed, spec["out"])
            if found is not None and not found.same_design:
                raise JobError(
                    f"an unfinished run of {scenario.name} with seed {seed} was trained with a "
                    "different design: discard it, or run with another seed"
                )
            jobs.write_status(
                job_dir,
                progress=k / len(seeds),
                current_seed=seed,
                message=f"seed {seed} ({k + 1} of {len(seeds)})",
            )
            path = run_scenario(
                scenario,
                seed=seed,
                out=spec["out"],
                episodes=spec.get("episodes"),
                progress=_progress_reporter(job_dir, k, len(seeds)),
            )
            metrics = json.loads((Path(path) / "summary.json").read_text()).get("metrics", {})
            live.append(
                {"seed": seed, **{m: metrics[m]["mean"] for m in LIVE_METRICS if m in metrics}}
            )
            runs.append(str(path))
            done.append(seed)
            jobs.write_status(
                job_dir, progress=(k + 1) / len(seeds), runs=runs, live=live, done_seeds=done
            )
        jobs.write_status(
            job_dir, state="done", progress=1.0, message="finished", finished_ns=time.time_ns()
        )
        return 0
    except RunBusy:
        return _failed(
            job_dir,
            spec,
            f"another process, not started from this app, is training {scenario.name} with "
            f"seed {seed} in this runs folder; resume this job when it has finished",
        )
    except Exception as err:  # reported to the page, which shows it like the CLI would
        return _failed(job_dir, spec, str(err), traceback.format_exc())


def _failed(job_dir: Path, spec: dict[str, Any], message: str, trace: str = "") -> int:
    folders = {"<runs>": spec["out"], "<job>": job_dir, ".": os.getcwd()}
    jobs.write_status(
        job_dir,
        state="failed",
        error=redact(message, folders),
        traceback=trace,
        finished_ns=time.time_ns(),
    )
    return 1


def _progress_reporter(job_dir: Path, k: int, n: int):
    """The runner's progress callback: (iterations done, in all, this iteration's metrics)."""
    history: list[dict[str, Any]] = []

    def report(done: int, total: int, metrics: dict[str, float] | None = None) -> None:
        if metrics:
            history.append({"iteration": done, **metrics})
            if len(history) > MAX_LIVE_ITERATIONS:
                del history[::2]
        jobs.write_status(job_dir, progress=(k + done / max(total, 1)) / n, iterations=history)

    return report


if __name__ == "__main__":  # pragma: no cover - exercised through jobqueue.launch
    _stop_on_sigterm()
    sys.exit(work(Path(sys.argv[1])))
