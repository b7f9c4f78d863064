"""Behaviour checks of the commons on hand-built small grids."""

from __future__ import annotations

import hashlib

import pytest
import torch

from coopsim.envs import WORLDS
from coopsim.envs.commons import (
    BACKWARD,
    FIRE,
    FORWARD,
    MAP_CHANNELS,
    NOOP,
    STEP_LEFT,
    STEP_RIGHT,
    TURN_LEFT,
    TURN_RIGHT,
    CommonsConfig,
    CommonsWorld,
)
from coopsim.schema import ConfigError, build

NORTH, EAST, SOUTH, WEST = range(4)

# 7 x 9 (the world adds the walls around it): a 3-apple row near the top, room to walk,
# spawn points at the bottom.
SMALL = """
.........
...AAA...
.........
.........
.........
.........
P.P.P.P..
"""


def world(n: int = 2, batch: int = 1, **kw) -> CommonsWorld:
    kw.setdefault("regrowth_probabilities", [0.0])
    cfg = CommonsConfig(num_agents=n, map_text=SMALL, view_radius=2, **kw)
    cfg.validate()
    return CommonsWorld(cfg, batch_size=batch)


def act(w: CommonsWorld, *acts: int):
    a = torch.tensor(acts).expand(w.batch_size, -1)[..., None]
    return w.step(a)


def test_registered_and_validated():
    assert WORLDS["commons"] == (CommonsConfig, CommonsWorld)
    with pytest.raises(ConfigError, match="world: the map has 4 spawn points"):
        build(CommonsConfig, {"num_agents": 5, "map_text": SMALL}, prefix="world")
    with pytest.raises(ConfigError, match=r"row 1, column 2: got 'x'"):
        build(CommonsConfig, {"map_text": "WWW\nW.x\nWWW"}, prefix="world")
    with pytest.raises(ConfigError, match="regrowth_probabilities"):
        build(CommonsConfig, {"regrowth_probabilities": [0.0, 1.5]}, prefix="world")


def test_default_world_shape():
    w = CommonsWorld(CommonsConfig(), batch_size=3)
    assert w.spec.action_nvec == (8,)
    assert w.spec.map_shape == (len(MAP_CHANNELS), 11, 11)
    assert w.spec.horizon == 1000
    assert w.stock().tolist() == [65, 65, 65]
    assert w.reset(seed=0).shape == (3, 5, w.spec.obs_dim)


def test_no_regrowth_with_no_apple_near():
    w = world(regrowth_probabilities=[0.0, 1.0])
    w.place(torch.tensor([[6, 0], [6, 8]]))
    w.set_apples(torch.zeros(7, 9, dtype=torch.bool))
    for _ in range(50):
        act(w, NOOP, NOOP)
    assert int(w.stock()) == 0


def test_regrowth_needs_an_apple_within_the_radius():
    w = world(regrowth_probabilities=[0.0, 1.0], regrowth_radius=1.0)
    w.place(torch.tensor([[6, 0], [6, 8]]))
    grid = torch.zeros(7, 9, dtype=torch.bool)
    grid[1, 3] = True  # the left apple of the row; the right one is 2 away
    w.set_apples(grid)
    act(w, NOOP, NOOP)
    assert w.apple_grid()[0, 1, 3:6].tolist() == [True, True, False]
    act(w, NOOP, NOOP)
    assert w.apple_grid()[0, 1, 3:6].tolist() == [True, True, True]


def test_no_regrowth_under_an_agent():
    w = world(regrowth_probabilities=[0.0, 1.0])
    w.place(torch.tensor([[1, 4], [6, 8]]))  # agent 0 on the middle apple tile
    grid = torch.zeros(7, 9, dtype=torch.bool)
    grid[1, 3] = True
    w.set_apples(grid)
    act(w, NOOP, NOOP)
    assert w.apple_grid()[0, 1, 3:6].tolist() == [True, False, True]


def test_harvest_by_stepping_on_an_apple():
    w = world()
    w.place(torch.tensor([[2, 4], [6, 8]]), torch.tensor([NORTH, NORTH]))
    st = act(w, FORWARD, NOOP)  # onto (1, 4), the middle apple
    assert w.positions()[0, 0].tolist() == [1, 4]
    assert st.info["harvest"].tolist() == [[1.0, 0.0]]
    assert st.reward.tolist() == [[1.0, 0.0]]
    assert int(w.stock()) == 2
    st = act(w, NOOP, NOOP)  # standing still takes nothing more
    assert st.reward.tolist() == [[0.0, 0.0]]
    st = act(w, STEP_RIGHT, NOOP)  # heading north: step right is east, onto (1, 5)
    assert w.positions()[0, 0].tolist() == [1, 5]
    assert st.info["harvest"][0, 0] == 1 and int(w.stock()) == 1


def test_moves_turns_walls_and_conflicts():
    w = world()
    w.place(torch.tensor([[0, 0], [0, 2]]), torch.tensor([NORTH, NORTH]))
    act(w, FORWARD, TURN_LEFT)  # into the wall: stays; agent 1 turns to face west
    assert w.positions()[0].tolist() == [[0, 0], [0, 2]]
    assert w.heading[0].tolist() == [NORTH, WEST]
    act(w, TURN_RIGHT, FORWARD)  # agent 1 west to (0, 1)
    assert w.heading[0].tolist() == [EAST, WEST] and w.positions()[0, 1].tolist() == [0, 1]
    act(w, FORWARD, BACKWARD)  # 0 east into (0, 1) held by 1 at the start: fails; 1 east
    assert w.positions()[0].tolist() == [[0, 0], [0, 2]]
    # Both into the same free tile (0, 1): rank (i - t) mod 2 at t = 3 puts agent 1 first.
    act(w, FORWARD, FORWARD)
    assert w.positions()[0].tolist() == [[0, 0], [0, 1]]
    act(w, NOOP, STEP_LEFT)  # facing west, step left is south
    assert w.positions()[0, 1].tolist() == [1, 1]


def test_tagging_removes_the_hit_agent_for_its_duration():
    w = world(tag_duration=3, fire_cooldown=5, beam_length=3, beam_radius=0)
    w.place(torch.tensor([[5, 2], [2, 2]]), torch.tensor([NORTH, SOUTH]))  # 3 tiles apart
    st = act(w, FIRE, NOOP)
    assert st.info["hits"].tolist() == [[1.0, 0.0]] and st.info["fired"][0, 0] == 1
    assert st.info["tagged"].tolist() == [[0.0, 0.0]]  # agent 1 acted this step
    assert w.action_mask()[0, 1].tolist() == [True] + [False] * 7
    assert st.obs[0, 1, w.layout.slices["tagged_out"]].item() == 1
    assert st.obs[0, 1, w.layout.slices["map"]].sum() == 0  # sees nothing while out
    out = []
    for _ in range(5):
        st = act(w, FIRE, FORWARD)  # agent 0 cools down; agent 1's moves are ignored
        out.append(st.info["tagged"][0, 1].item())
        assert st.info["fired"][0, 0] == 0
    assert out == [1.0, 1.0, 1.0, 0.0, 0.0]
    assert w.positions()[0, 1].tolist() == [4, 2]  # back at (2, 2), then two steps south
    st = act(w, FIRE, NOOP)  # ready again after 5 steps: 1 stands adjacent, ahead
    assert st.info["hits"][0, 0] == 1


def test_beam_width_and_walls():
    w = world(n=3, beam_length=3, beam_radius=1)
    # agent 0 at (4, 0) facing east; agent 1 one lane up (3, 2); agent 2 two lanes up: missed
    w.place(torch.tensor([[4, 0], [3, 2], [2, 3]]), torch.tensor([EAST, NORTH, NORTH]))
    st = act(w, FIRE, NOOP, NOOP)
    assert st.info["hits"][0].tolist() == [1.0, 0.0, 0.0]
    assert (w.out[0] > 0).tolist() == [False, True, False]
    # A wall stops the beam: agent 2 at the top row, firing north, hits nothing beyond it.
    w2 = world(n=2, beam_length=3, beam_radius=0)
    w2.place(torch.tensor([[0, 4], [6, 4]]), torch.tensor([NORTH, NORTH]))
    st = act(w2, FIRE, NOOP)
    assert st.info["hits"].sum() == 0
    assert not world(tagging=False).action_mask()[0, :, FIRE].any()


def test_observation_window_is_egocentric_and_rotated():
    w = world(regrowth_probabilities=[0.0])
    r = 2  # view radius: 5 x 5 window, agent at (2, 2)
    w.place(torch.tensor([[2, 4], [3, 4]]), torch.tensor([NORTH, NORTH]))
    maps = w.egocentric_map().view(1, 2, 3, 5, 5)
    apple, agent, wall = maps[0, 0, 1], maps[0, 0, 2], maps[0, 0, 0]
    # Facing north from (2, 4): the apple row is one ahead, columns 3..5 = window -1..+1.
    assert apple[r - 1].tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    assert agent[r, r] == 1 and agent[r + 1, r] == 1  # itself, and agent 1 behind it
    assert wall.sum() == 0
    # Turn to face east: ahead is now east, the apple row lies to the left (window column 1).
    w.place(torch.tensor([[2, 4], [3, 4]]), torch.tensor([EAST, NORTH]))
    maps = w.egocentric_map().view(1, 2, 3, 5, 5)
    assert maps[0, 0, 1][:, r - 1].tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    assert maps[0, 0, 2][r, r + 1] == 1  # agent 1 south of it = on its right
    # Agent 1 at (3, 4) facing north near nothing: walls appear beyond the map's edge.
    w.place(torch.tensor([[0, 0], [6, 8]]), torch.tensor([NORTH, SOUTH]))
    wall0 = w.egocentric_map().view(1, 2, 3, 5, 5)[0, 0, 0]
    assert wall0[:r].sum() == 10 and wall0[:, :r].sum() == 10  # rows ahead, columns left


def test_batched_worlds_step_as_each_world_alone():
    cfg = dict(regrowth_probabilities=[0.0, 0.0, 1.0], tag_duration=4, fire_cooldown=2)
    starts = torch.tensor([[[5, 2], [2, 2]], [[1, 3], [2, 5]], [[6, 0], [0, 8]]])
    headings = torch.tensor([[NORTH, SOUTH], [EAST, WEST], [NORTH, SOUTH]])
    gen = torch.Generator().manual_seed(3)
    actions = torch.randint(8, (40, 3, 2, 1), generator=gen)
    batched = world(batch=3, **cfg)
    batched.place(starts, headings)
    singles = [world(batch=1, **cfg) for _ in range(3)]
    for k, s in enumerate(singles):
        s.place(starts[k], headings[k])
    for t in range(40):
        st = batched.step(actions[t])
        for k, s in enumerate(singles):
            one = s.step(actions[t, k : k + 1])
            torch.testing.assert_close(st.obs[k : k + 1], one.obs)
            torch.testing.assert_close(st.reward[k : k + 1], one.reward)
            for key in ("harvest", "tagged", "hits", "stock"):
                torch.testing.assert_close(st.info[key][k : k + 1], one.info[key])
    assert batched.stock().tolist() == [int(s.stock()) for s in singles]


def test_replicate_copies_a_world():
    w = world(batch=2, regrowth_probabilities=[0.0])
    w.place(torch.tensor([[[2, 4], [6, 8]], [[6, 0], [6, 8]]]), torch.tensor([NORTH, NORTH]))
    act(w, FORWARD, NOOP)  # world 0: agent 0 takes an apple
    obs = w.replicate(torch.tensor([0, 0]))
    torch.testing.assert_close(obs[1], obs[0])
    assert w.stock().tolist() == [2, 2]


def test_episode_ends_at_the_horizon():
    w = world(episode_length=3)
    w.reset(seed=1)
    dones = [bool(act(w, NOOP, NOOP).done[0]) for _ in range(3)]
    assert dones == [False, False, True]


def test_step_left_right_follow_heading():
    w = world()
    w.place(torch.tensor([[4, 4], [6, 8]]), torch.tensor([SOUTH, NORTH]))
    act(w, STEP_LEFT, NOOP)  # facing south, left is east
    assert w.positions()[0, 0].tolist() == [4, 5]
    act(w, BACKWARD, NOOP)  # facing south, backward is north
    assert w.positions()[0, 0].tolist() == [3, 5]


@pytest.mark.parametrize(
    ("config", "batch", "seed", "digest", "total", "stock"),
    [
        (CommonsConfig(), 8, 0, "5313c38ad40e6312", 373.0, 419),
        (
            CommonsConfig(view_radius=3, fire_cooldown=1, tag_duration=3),
            4,
            5,
            "f437c609e83084c8",
            189.0,
            192,
        ),
        (
            CommonsConfig(num_agents=10, regrowth_probabilities=[0.0, 0.05, 0.1, 0.2]),
            3,
            2,
            "a903d4716274b367",
            312.0,
            183,
        ),
    ],
)
def test_random_play_fingerprint(config, batch, seed, digest, total, stock):
    """200 steps of random allowed acts hash to what they did when recorded: a change made
    for speed must leave every observation, reward and recorded variable as it was."""
    w = CommonsWorld(config, batch_size=batch)
    h = hashlib.sha256(w.reset(seed=seed).numpy().tobytes())
    gen = torch.Generator().manual_seed(seed + 1)
    paid = 0.0
    for _ in range(200):
        mask = w.action_mask()
        choice = torch.where(mask, torch.rand(mask.shape, generator=gen), -1.0)
        st = w.step(choice.argmax(-1, keepdim=True))
        h.update(st.obs.numpy().astype("float32").tobytes())
        h.update(st.reward.numpy().astype("float32").tobytes())
        for key in sorted(st.info):
            h.update(key.encode())
            h.update(st.info[key].float().numpy().tobytes())
        paid += float(st.reward.sum())
    assert (h.hexdigest()[:16], paid, int(w.stock().sum())) == (digest, total, stock)
