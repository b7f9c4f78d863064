"""What one run started from the app may record."""

from __future__ import annotations

from coopsim import scenario as sc
from coopsim.app import jobs, limits, worker


def _maximal() -> sc.Scenario:
    data = sc.load("public_goods").to_dict()
    data["world"].update(num_agents=64, rounds=10_000)
    data["population"] = [{"policy": "conditional_cooperator", "count": 64}]
    return sc.from_dict(data, source="design")


def test_the_maximal_valid_design_is_refused_with_what_would_fit():
    scenario = _maximal()
    assert limits.rows_per_episode(scenario) == 640_000
    assert limits.record_size_error(scenario, 3) is None
    assert limits.record_size_error(scenario, 32) == (
        "evaluation.episodes: 32 episodes x 640,000 steps x agents = 20,480,000 recorded rows, "
        "more than the 2,000,000 a run started from the app may keep; at most 3 episodes fit"
    )
    assert limits.record_size_error(sc.load("public_goods"), 50_000) is None  # 2,000,000 rows


def test_the_worker_refuses_it_before_running(tmp_path):
    job = jobs.prepare(_maximal().to_toml(), tmp_path, seeds=[0], episodes=32)
    assert worker.work(job.path) == 1
    assert "at most 3 episodes fit" in jobs.load(job.path).status["error"]
    assert [p.name for p in tmp_path.iterdir()] == [".jobs"]
