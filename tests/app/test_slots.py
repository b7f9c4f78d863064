"""Slot accounting: job workers and the Sweep page's workers share one ``--max-jobs`` limit."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from coopsim.app import jobqueue, jobs, slots


@pytest.fixture
def sleeper():
    """A live process that stands in for a worker or an app server holding a slot."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc
    proc.kill()
    proc.wait()


def _running(runs, holder: subprocess.Popen, state: str = "running", **extra) -> jobs.Job:
    job = jobs.prepare("", runs, seeds=[0], **extra)
    jobs.write_status(
        job.path, state=state, pid=holder.pid, pid_start=slots.process_start(holder.pid)
    )
    return jobs.load(job.path)


def _lease(runs, holder: subprocess.Popen, wanted: int, state: str, granted: int = 0):
    lease = slots.ask(runs, f"sweep-{wanted}-{state}-{time.monotonic_ns()}", wanted)
    lease = slots.Lease(
        **{
            **lease.__dict__,
            "pid": holder.pid,
            "start": slots.process_start(holder.pid),
            "state": state,
            "slots": granted,
        }
    )
    slots._write_lease(lease)
    return lease


def _dispatch_without_launching(runs, limit: int) -> list[str]:
    launched: list[str] = []
    original = jobqueue.launch
    jobqueue.launch = lambda job: launched.append(job.id) or job
    try:
        jobqueue.dispatch(runs, limit)
    finally:
        jobqueue.launch = original
    return launched


def test_a_sweep_gets_only_the_slots_left_by_running_jobs(tmp_path, sleeper):
    runs = tmp_path / "runs"
    _running(runs, sleeper)
    lease = slots.ask(runs, "sweep-a", 4)  # held by this process, which lives
    _dispatch_without_launching(runs, limit=2)
    assert slots.read(lease).state == slots.GRANTED and slots.read(lease).slots == 1
    assert jobqueue.slots_busy(runs) == 2


def test_a_sweep_waits_while_every_slot_is_busy(tmp_path, sleeper):
    runs = tmp_path / "runs"
    _running(runs, sleeper)
    _running(runs, sleeper)
    lease = slots.ask(runs, "sweep-b", 1)
    _dispatch_without_launching(runs, limit=2)
    assert slots.read(lease).state == slots.WAITING


def test_jobs_queued_behind_a_running_sweep_wait_for_its_slots(tmp_path, sleeper):
    runs = tmp_path / "runs"
    _lease(runs, sleeper, wanted=2, state=slots.GRANTED, granted=2)
    queued = jobs.prepare("", runs, seeds=[0])
    assert _dispatch_without_launching(runs, limit=2) == []
    assert _dispatch_without_launching(runs, limit=3) == [queued.id]


def test_the_line_is_one_line_oldest_first(tmp_path, sleeper):
    runs = tmp_path / "runs"
    _running(runs, sleeper)
    first = jobs.prepare("", runs, seeds=[0])  # queued before the sweep: it goes first
    lease = slots.ask(runs, "sweep-c", 2)
    later = jobs.prepare("", runs, seeds=[1])  # queued after the sweep: it waits for it
    assert _dispatch_without_launching(runs, limit=2) == [first.id]
    assert slots.read(lease).state == slots.WAITING
    # A third slot: the sweep's turn comes before the later job's, and takes the one free slot.
    assert _dispatch_without_launching(runs, limit=3) == [first.id]
    assert slots.read(lease).slots == 1
    assert jobs.load(later.path).state == "queued"


def test_a_stopped_worker_holds_its_slot_until_it_has_ended(tmp_path, sleeper):
    """The hand-off: a stopped job's worker still writes its checkpoint, so the next job waits
    for it, and the worker itself (excluded as the caller) starts the next as it exits."""
    runs = tmp_path / "runs"
    stopped = _running(runs, sleeper, state="stopped")
    queued = jobs.prepare("", runs, seeds=[0])
    everyone = jobs.list_jobs(runs)
    assert slots.plan(everyone, [], limit=1).start == []
    handed_on = slots.plan(everyone, [], limit=1, exclude_pid=sleeper.pid)
    assert [j.id for j in handed_on.start] == [queued.id]
    sleeper.kill()
    sleeper.wait()
    assert not slots.job_holds_slot(jobs.load(stopped.path))
    assert _dispatch_without_launching(runs, limit=1) == [queued.id]


def test_a_recycled_pid_or_a_dead_server_holds_nothing(tmp_path, sleeper):
    runs = tmp_path / "runs"
    job = jobs.prepare("", runs, seeds=[0])
    # The pid lives, but it is not the process that started then: a recycled pid.
    jobs.write_status(job.path, state="done", pid=sleeper.pid, pid_start=1)
    assert not slots.job_holds_slot(jobs.load(job.path))
    gone = _lease(runs, sleeper, wanted=2, state=slots.GRANTED, granted=2)
    sleeper.kill()
    sleeper.wait()
    queued = jobs.prepare("", runs, seeds=[1])
    assert _dispatch_without_launching(runs, limit=1) == [queued.id]
    assert slots.read(gone) is None  # the dead server's lease is cleared


def test_a_lease_asks_for_at_least_one_worker(tmp_path):
    with pytest.raises(ValueError, match="workers: got 0, must be >= 1"):
        slots.ask(tmp_path, "sweep", 0)
    assert slots.process_start(os.getpid()) is not None
