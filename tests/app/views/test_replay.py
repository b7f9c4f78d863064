"""The app's episode replay: a frame slider on the Compare page for runs that have a replay."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from coopsim import scenario as sc
from coopsim.runner import run_scenario

TIMEOUT = 60


@pytest.fixture
def runs_env(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPSIM_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("COOPSIM_DESIGNS", str(tmp_path / "designs"))
    return tmp_path / "runs"


def commons_run(out):
    scenario = sc.from_dict(
        {
            "name": "commons_greedy",
            "world": {"kind": "commons", "num_agents": 3, "episode_length": 40},
            "population": [{"policy": "greedy_harvester", "count": 3}],
            "evaluation": {"episodes": 2, "seed": 0},
        }
    )
    return run_scenario(scenario, out=out)


def compare_page() -> AppTest:
    script = (
        "from coopsim.app import state\n"
        "from coopsim.app.views import compare\n"
        "state.init()\n"
        "compare.render()\n"
    )
    return AppTest.from_string(script, default_timeout=TIMEOUT)


def image_captions(at: AppTest) -> list[str]:
    """Captions of the page's images (the figures drawn with st.pyplot have none)."""
    return [c for element in at.get("image") for c in element.captions if c]


def test_the_slider_moves_through_the_episode(runs_env):
    run = commons_run(runs_env)
    at = compare_page().run()
    assert not at.exception
    assert "Episode replay" in [h.value for h in at.subheader]
    (slider,) = [s for s in at.slider if s.label == "Frame"]
    assert slider.value == 0 and slider.max == 40  # 41 frames: every step of 40 kept
    assert image_captions(at) == ["commons_greedy (seed 0), step 0 of 40"]
    slider.set_value(25).run()
    assert not at.exception
    assert image_captions(at) == ["commons_greedy (seed 0), step 25 of 40"]
    assert run.name in [s for s in at.selectbox if s.label == "Replay of run"][0].options


def test_runs_without_a_replay_show_no_slider(runs_env):
    run_scenario(sc.load("public_goods"), out=runs_env, episodes=2)
    at = compare_page().run()
    assert not at.exception
    assert "Episode replay" not in [h.value for h in at.subheader]
    assert not [s for s in at.slider if s.label == "Frame"]
