"""Episode replays: recorded by evaluation of spatial worlds, bounded, written with the run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from coopsim import builder
from coopsim import scenario as sc
from coopsim.evaluate import evaluate
from coopsim.replay import MAX_FRAMES, REPLAY, Replay, ReplayRecorder, load_replay, save_replay
from coopsim.runner import run_scenario


def scripted_commons(length: int = 30) -> sc.Scenario:
    return sc.from_dict(
        {
            "name": "commons_greedy",
            "world": {"kind": "commons", "num_agents": 3, "episode_length": length},
            "population": [{"policy": "greedy_harvester", "count": 3}],
            "evaluation": {"episodes": 2, "seed": 0},
        }
    )


def test_recorder_keeps_at_most_max_frames_first_and_last_step_included():
    world = builder.make_world(scripted_commons(length=1000), 1)
    recorder = ReplayRecorder(world, max_frames=MAX_FRAMES)
    world.reset(seed=0)
    recorder.capture()
    actions = np.zeros((1, 3, 1), dtype=np.int64)
    for _ in range(1000):
        step = world.step(torch.from_numpy(actions))
        recorder.capture(bool(step.done[0]))
    replay = recorder.replay()
    assert recorder.every == 11  # ceil(1000 / 99)
    assert replay.num_frames <= MAX_FRAMES
    assert replay.steps[0] == 0 and replay.steps[-1] == 1000
    assert (np.diff(replay.steps) > 0).all() and (np.diff(replay.steps)[:-1] == 11).all()


def test_recorder_refuses_fewer_than_two_frames():
    with pytest.raises(ValueError, match="max_frames must be >= 2"):
        ReplayRecorder(builder.make_world(scripted_commons(), 1), max_frames=1)


def test_evaluation_of_the_commons_records_world_zero_of_one_episode():
    scenario = scripted_commons(length=30)
    result = evaluate(scenario, episodes=2)
    replay = result.replay
    assert isinstance(replay, Replay) and replay.kind == "commons"
    f = replay.num_frames
    assert f == 31  # 30 steps fit under the bound: every step kept, after reset included
    assert replay.shape == (17, 23)
    assert set(replay.layers) == {"wall", "apple"}
    assert replay.layers["apple"].shape == (f, 17, 23) and replay.layers["apple"].dtype == bool
    assert replay.positions.shape == (f, 3, 2) and replay.heading.shape == (f, 3)
    assert ((replay.heading >= 0) & (replay.heading < 4)).all()
    h, w = replay.shape
    assert (replay.positions >= 0).all() and (replay.positions[..., 0] < h).all()
    assert (replay.positions[..., 1] < w).all()
    # Greedy harvesters eat: the apples left never grow in number faster than regrowth allows.
    assert replay.layers["apple"][-1].sum() < replay.layers["apple"][0].sum()


def test_worlds_without_a_map_record_no_replay():
    assert evaluate(sc.load("public_goods"), episodes=2).replay is None


def test_a_commons_run_directory_holds_a_small_replay(tmp_path):
    run = run_scenario(scripted_commons(length=300), out=tmp_path, episodes=2)
    path = run / REPLAY
    assert path.is_file() and path.stat().st_size < 50_000
    replay = load_replay(path)
    assert replay.num_frames <= MAX_FRAMES and replay.steps[-1] == 300
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_public_goods_run_directory_has_no_replay(tmp_path):
    run = run_scenario(sc.load("public_goods"), out=tmp_path, episodes=2)
    assert not (run / REPLAY).exists()


def test_save_and_load_round_trip(tmp_path):
    replay = evaluate(scripted_commons(length=10), episodes=1).replay
    save_replay(tmp_path / "r.npz", replay)
    back = load_replay(tmp_path / "r.npz")
    assert back.kind == "commons" and back.num_frames == replay.num_frames
    np.testing.assert_array_equal(back.positions, replay.positions)
    np.testing.assert_array_equal(back.layers["apple"], replay.layers["apple"])
    assert [p.name for p in tmp_path.iterdir()] == ["r.npz"]


def test_a_file_that_is_not_a_replay_is_named_in_the_error(tmp_path):
    np.savez(tmp_path / "x.npz", steps=np.arange(3))
    with pytest.raises(ValueError, match=r"x\.npz: not a replay file, missing kind"):
        load_replay(tmp_path / "x.npz")
