"""The job queue: no more workers than slots, every job finishes, finished workers are reaped."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from coopsim import scenario as sc
from coopsim.app import jobqueue, jobs


def _design(rounds: int = 3) -> str:
    data = sc.load("public_goods").to_dict()
    data["world"]["rounds"] = rounds
    return sc.from_dict(data, source="test").to_toml()


def _wait_all(paths: list[Path], limit: float = 240.0) -> list[jobs.Job]:
    deadline = time.monotonic() + limit
    while True:
        loaded = [jobs.load(p) for p in paths]
        if all(j.finished for j in loaded):
            return loaded
        assert time.monotonic() < deadline, [j.state for j in loaded]
        time.sleep(0.3)


def _zombie_children() -> list[int]:
    """Children of this process that exited but were never waited for."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
def test_more_jobs_than_slots_all_finish_and_never_overlap_beyond_the_limit(tmp_path):
    runs = tmp_path / "runs"
    started = [
        jobqueue.start(_design(), runs, seeds=[k], episodes=2, name=f"q{k}", limit=2)
        for k in range(5)
    ]
    # Two run at once; the others wait their turn, in the order they were queued.
    states = [jobs.load(j.path).state for j in started]
    assert states.count("running") == 2 and states.count("queued") == 3
    everyone = jobs.list_jobs(runs)
    assert [jobs.queue_place(jobs.load(j.path), everyone) for j in started[2:]] == [1, 2, 3]

    done = _wait_all([j.path for j in started])
    assert [j.state for j in done] == ["done"] * 5, [j.status.get("error") for j in done]
    spans = [(j.status["started_ns"], j.status["finished_ns"]) for j in done]
    for start, _ in spans:  # at any worker's start, at most two (itself included) were running
        assert sum(s <= start < f for s, f in spans) <= 2
    made = sorted(p.name.rsplit("-", 1)[-1] for p in runs.iterdir() if not p.name.startswith("."))
    assert made == ["s0", "s1", "s2", "s3", "s4"]
    time.sleep(0.5)  # reaper threads wait for workers that just exited
    assert _zombie_children() == []


def test_a_job_waits_while_another_trains_the_same_scenario_and_seed(tmp_path):
    runs = tmp_path / "runs"
    first = jobs.prepare("", runs, seeds=[0], keys=[".x-s0.partial"])
    second = jobs.prepare("", runs, seeds=[0], keys=[".x-s0.partial"])
    third = jobs.prepare("", runs, seeds=[1], keys=[".x-s1.partial"])
    jobs.write_status(first.path, state="running", pid=os.getpid())  # stands in for a worker
    launched = []
    original = jobqueue.launch
    jobqueue.launch = lambda job: launched.append(job.id) or job
    try:
        jobqueue.dispatch(runs, limit=4)
    finally:
        jobqueue.launch = original
    assert launched == [third.id]  # the second waits for the first; the third goes ahead
    assert jobs.load(second.path).state == "queued"


def test_stopping_a_queued_job_takes_it_out_of_the_queue(tmp_path):
    runs = tmp_path / "runs"
    blocker = jobs.prepare("", runs, seeds=[0])
    jobs.write_status(blocker.path, state="running", pid=os.getpid())
    waiting = jobqueue.start(_design(), runs, seeds=[0], limit=1)
    assert waiting.state == "queued"
    jobqueue.stop(waiting, limit=1)
    assert jobs.load(waiting.path).state == "stopped"
    assert jobs.load(waiting.path).resumable


def test_max_jobs_comes_from_the_command_line_or_the_cores(monkeypatch):
    monkeypatch.delenv(jobqueue.MAX_JOBS_ENV, raising=False)
    assert jobqueue.max_jobs() == jobqueue.default_max_jobs() >= 1
    monkeypatch.setenv(jobqueue.MAX_JOBS_ENV, "3")
    assert jobqueue.max_jobs() == 3
    monkeypatch.setenv(jobqueue.MAX_JOBS_ENV, "0")
    with pytest.raises(ValueError, match="COOPSIM_MAX_JOBS: got '0', must be an integer >= 1"):
        jobqueue.max_jobs()


def test_app_command_passes_max_jobs(monkeypatch):
    from coopsim import cli

    seen = {}

    class Server:  # what the command waits on, instead of a real Streamlit server
        def __init__(self, cmd, env):
            seen.update(env=env)

        def wait(self):
            return 0

    monkeypatch.setattr("subprocess.Popen", Server, raising=True)
    assert cli.main(["app", "--max-jobs", "2", "--runs", "somewhere"]) == 0
    assert seen["env"]["COOPSIM_MAX_JOBS"] == "2" and seen["env"]["COOPSIM_RUNS"] == "somewhere"
    with pytest.raises(SystemExit):
        cli.main(["app", "--max-jobs", "0"])
