"""The extending guide works as written: its toy world and toy measure, built from the page's
own code blocks, load, evaluate, measure and pass the world conformance kit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coopsim.conformance import check_world
from coopsim.envs import WORLDS
from coopsim.measures import MEASURES
from coopsim.record import load_run
from coopsim.runner import run_scenario
from coopsim.scenario import load

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "extending.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), flags=re.S)


@pytest.fixture
def guide(tmp_path):
    """The guide's Python blocks run in order (registering the world and the measure), its
    TOML block as a scenario file; the registries are restored afterwards."""
    worlds, measures = dict(WORLDS), dict(MEASURES)
    namespace: dict = {}
    try:
        for code in blocks("python"):
            exec(compile(code, str(GUIDE), "exec"), namespace)  # noqa: S102 - our own docs
        (toml,) = blocks("toml")
        path = tmp_path / "lake.toml"
        path.write_text(toml)
        yield path
    finally:
        WORLDS.clear()
        WORLDS.update(worlds)
        MEASURES.clear()
        MEASURES.update(measures)


def test_the_guide_has_the_blocks_it_walks_through():
    assert len(blocks("python")) == 3 and len(blocks("toml")) == 1
    assert "lake" not in WORLDS and "catch_per_round" not in MEASURES


def test_the_toy_world_and_measure_run_end_to_end(guide, tmp_path):
    scenario = load(guide)
    run = load_run(run_scenario(scenario, out=tmp_path / "runs"))
    episodes = run.episodes
    assert "catch" in episodes.columns  # the world's own variable reached the run's table
    per_episode = episodes.groupby("episode")["catch"].sum() / scenario.world.rounds
    measured = run.episode_metrics.set_index("episode")["catch_per_round"]
    assert measured.to_numpy() == pytest.approx(per_episode.to_numpy())
    assert per_episode.max() > 0  # random fishers caught something
    summary = run.summary["metrics"]["catch_per_round"]
    assert summary["mean"] == pytest.approx(per_episode.mean())
    assert summary["ci_low"] <= summary["mean"] <= summary["ci_high"]
    # a flat 20% tax on the catch, rebated equally: the books add up per episode
    assert episodes["net"].sum() == pytest.approx(episodes["gross"].sum(), rel=1e-5)


def test_the_toy_measure_is_measured_only_where_its_data_is(guide, tmp_path):
    run = load_run(run_scenario(load("prisoners_dilemma"), out=tmp_path, episodes=2))
    assert "catch_per_round" not in run.summary["metrics"]


def test_the_toy_world_passes_the_conformance_kit(guide):
    report = check_world("lake")
    assert "info schema" in report.passed
    assert "batched equals single" in report.passed
