"""Unfinished learning runs in the app: checkpoints found, collisions named, resume and discard."""

from __future__ import annotations

import pytest

from coopsim import scenario as sc
from coopsim.app import jobqueue, jobs, recovery, worker
from coopsim.runner import run_scenario


class Interrupt(Exception):
    pass


def _learning(iterations: int = 3, name: str = "pgl") -> sc.Scenario:
    data = sc.load("public_goods_learning").to_dict()
    data["name"] = name
    data["world"]["rounds"] = 3
    data["training"].update(iterations=iterations, checkpoint_every=1, num_worlds=4)
    data["evaluation"]["episodes"] = 2
    return sc.from_dict(data, source="test")


def _interrupted(scenario: sc.Scenario, seed: int, out, after: int) -> None:
    """Train until ``after`` iterations, then fail as a killed worker would."""

    def stop(done, total, metrics):
        if done == after:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_scenario(scenario, seed=seed, out=out, progress=stop)


def test_an_interrupted_run_shows_its_checkpoint_and_resumes_in_a_job(tmp_path):
    runs = tmp_path / "runs"
    scenario = _learning()
    _interrupted(scenario, 0, runs, after=2)
    found = recovery.unfinished(scenario, 0, runs)
    assert found.iterations_done == 2 and found.iterations == 3 and found.same_design
    assert found.describe() == "seed 0: checkpoint after 2 of 3 training iterations"
    assert recovery.collision(scenario, [0], runs, set()) is None  # same design: resumable

    job = jobs.prepare(
        scenario.to_toml(), runs, seeds=[0], keys=recovery.collision_keys(scenario, [0])
    )
    jobs.write_status(job.path, state="interrupted")
    assert jobs.load(job.path).resumable
    jobs.write_status(job.path, state="queued")
    assert worker.work(job.path) == 0
    done = jobs.load(job.path)
    assert done.state == "done" and not done.resumable
    summary = (runs / done.status["runs"][0].rsplit("/", 1)[-1] / "summary.json").read_text()
    assert '"resumed_from": 2' in summary
    assert recovery.unfinished(scenario, 0, runs) is None


def test_a_changed_design_offers_the_next_free_seed_or_discarding(tmp_path):
    runs = tmp_path / "runs"
    _interrupted(_learning(iterations=3), 0, runs, after=1)
    changed = _learning(iterations=5)
    found = recovery.unfinished(changed, 0, runs)
    assert not found.same_design
    clash = recovery.collision(changed, [0, 1], runs, set())
    assert clash.busy == [] and [u.seed for u in clash.blocked] == [0]
    assert clash.next_free == 2
    assert "trained with a different design" in clash.describe("pgl")

    # The worker refuses it in the app's words, not the command line's.
    job = jobs.prepare(changed.to_toml(), runs, seeds=[0])
    assert worker.work(job.path) == 1
    error = jobs.load(job.path).status["error"]
    assert "different design: discard it, or run with another seed" in error
    assert "--fresh" not in error and "--out" not in error

    assert recovery.discard(found.folder)
    assert recovery.unfinished(changed, 0, runs) is None
    assert recovery.collision(changed, [0, 1], runs, set()) is None


def test_seeds_another_job_trains_are_busy(tmp_path):
    scenario = _learning()
    keys = set(recovery.collision_keys(scenario, [3, 4]))
    clash = recovery.collision(scenario, [4, 5], tmp_path, keys)
    assert clash.busy == [4] and clash.blocked == [] and clash.next_free == 6
    assert recovery.collision_keys(sc.load("public_goods"), [0]) == []  # evaluation never clashes


def test_resume_refuses_a_job_with_nothing_left(tmp_path):
    job = jobs.prepare("", tmp_path, seeds=[0])
    jobs.write_status(job.path, state="done", done_seeds=[0])
    with pytest.raises(ValueError, match="nothing left to run"):
        jobqueue.resume(jobs.load(job.path))
