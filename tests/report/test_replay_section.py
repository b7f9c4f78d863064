"""The report's Episode replay section: present for runs that recorded a replay, only then."""

from __future__ import annotations

import pytest

from coopsim import scenario as sc
from coopsim.record import load_run
from coopsim.replay import REPLAY
from coopsim.report.content import build_content
from coopsim.report.to_html import render_html
from coopsim.runner import run_scenario


@pytest.fixture(scope="module")
def commons_run(tmp_path_factory):
    scenario = sc.from_dict(
        {
            "name": "commons_greedy",
            "world": {"kind": "commons", "num_agents": 3, "episode_length": 40},
            "population": [{"policy": "greedy_harvester", "count": 3}],
            "evaluation": {"episodes": 2, "seed": 0},
        }
    )
    return run_scenario(scenario, out=tmp_path_factory.mktemp("runs"))


def test_a_commons_run_gets_a_strip_of_frames(commons_run):
    assert (commons_run / REPLAY).is_file()
    report = build_content([commons_run])
    keys = [s.key for s in report.sections]
    assert keys.index("replay") == keys.index("figures") + 1
    (section,) = [s for s in report.sections if s.key == "replay"]
    figures = [b for b in section.blocks if hasattr(b, "figure")]
    assert [f.key for f in figures] == [f"fig-replay-{commons_run.name}"]
    assert "steps 0 to 40" in figures[0].caption
    assert len(figures[0].figure.axes) == 6
    html = render_html(report)
    assert 'id="replay"' in html and f"fig-replay-{commons_run.name}" in html


def test_runs_without_a_replay_get_no_section(tmp_path, commons_run):
    pg = run_scenario(sc.load("public_goods"), out=tmp_path, episodes=2)
    assert "replay" not in [s.key for s in build_content([pg]).sections]
    # A run written before replays were recorded: the same run without its file.
    (commons_run / REPLAY).rename(tmp_path / REPLAY)
    try:
        assert "replay" not in [s.key for s in build_content([load_run(commons_run)]).sections]
    finally:
        (tmp_path / REPLAY).rename(commons_run / REPLAY)
