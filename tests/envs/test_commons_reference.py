"""The batched commons step against a plain reference written from the module's rules.

The world's step is tuned for speed (tables of moves and beams, one gather for every window);
the reference below follows the rules in ``coopsim.envs.commons``'s docstring world by world
and agent by agent, with Python loops and nothing precomputed. Both start from the world's own
state each step and share the step's one random draw (regrowth), so any difference is a
difference in the rules.
"""

from __future__ import annotations

import math

import pytest
import torch

from coopsim.envs.commons import FIRE, MAP_CHANNELS, NOOP, CommonsConfig, CommonsWorld

HEADINGS = [(-1, 0), (0, 1), (1, 0), (0, -1)]  # north, east, south, west as (row, column)
MOVE_TURN = {1: 0, 4: 1, 2: 2, 3: 3}  # forward, step right, backward, step left
TURN = {5: -1, 6: 1}  # turn left, turn right

# Walls inside the map, so beams and windows meet them away from the edge.
SMALL = """
..A..W.A..
.AAA.WAAA.
..A.......
...WW.....
P.P.P.P.P.
"""


def reference_step(w: CommonsWorld, actions: torch.Tensor, draw: torch.Tensor) -> dict:
    """One step of every world from ``w``'s state, by the rules; ``draw`` [B, S] regrowth."""
    c, n, wp = w.config, w.config.num_agents, w.wp
    walls = w.walls.tolist()
    apple_tiles = w.apple_tiles.tolist()
    out = {k: [] for k in ("pos", "heading", "out", "cooldown", "apples", "reward", "hits")}
    out["tagged"], out["fired"], out["obs_map"] = [], [], []
    t = w.t
    for b in range(w.batch_size):
        pos, heading = w.pos[b].tolist(), w.heading[b].tolist()
        left, cooldown = w.out[b].tolist(), w.cooldown[b].tolist()
        apples = dict(zip(apple_tiles, w.apples[b].tolist(), strict=True))
        rank = [(i - t) % n for i in range(n)]
        # Tagged-out agents whose time is up return unless their tile is taken.
        due = [left[i] == 1 for i in range(n)]
        was_present = [left[i] == 0 for i in range(n)]
        for i in range(n):
            if due[i]:
                taken = any(was_present[j] and pos[j] == pos[i] for j in range(n))
                beaten = any(due[j] and pos[j] == pos[i] and rank[j] < rank[i] for j in range(n))
                left[i] = 1 if taken or beaten else 0
            else:
                left[i] = max(left[i] - 1, 0)
        present = [left[i] == 0 for i in range(n)]
        act = [int(actions[b, i, 0]) if present[i] else NOOP for i in range(n)]
        # Turns and moves.
        target = list(pos)
        for i in range(n):
            if act[i] in MOVE_TURN:
                dy, dx = HEADINGS[(heading[i] + MOVE_TURN[act[i]]) % 4]
                target[i] = pos[i] + dy * wp + dx
            heading[i] = (heading[i] + TURN.get(act[i], 0)) % 4
        ok = [
            target[i] != pos[i]
            and not walls[target[i]]
            and not any(present[j] and pos[j] == target[i] for j in range(n))
            for i in range(n)
        ]
        beaten = [
            any(ok[j] and target[j] == target[i] and rank[j] < rank[i] for j in range(n))
            for i in range(n)
        ]
        pos = [target[i] if ok[i] and not beaten[i] else pos[i] for i in range(n)]
        # Harvest.
        reward = [0.0] * n
        for i in range(n):
            if present[i] and apples.get(pos[i], False):
                apples[pos[i]] = False
                reward[i] = 1.0
        # Beams, from where agents now stand, with their new headings.
        fired = [present[i] and act[i] == FIRE and cooldown[i] == 0 and c.tagging for i in range(n)]
        cooldown = [c.fire_cooldown if fired[i] else max(cooldown[i] - 1, 0) for i in range(n)]
        struck = [[False] * n for _ in range(n)]
        for i in range(n):
            if not fired[i]:
                continue
            fy, fx = HEADINGS[heading[i]]
            ry, rx = HEADINGS[(heading[i] + 1) % 4]
            for lane in range(-c.beam_radius, c.beam_radius + 1):
                for d in range(1, c.beam_length + 1):
                    cell = pos[i] + (d * fy + lane * ry) * wp + d * fx + lane * rx
                    if walls[cell]:
                        break
                    for k in range(n):
                        if present[k] and pos[k] == cell:
                            struck[i][k] = True
        tagged = [any(struck[i][k] for i in range(n)) for k in range(n)]
        left = [c.tag_duration + 1 if tagged[k] else left[k] for k in range(n)]
        # Regrowth: empty apple tiles with no remaining agent on them, by the apples near.
        standing = dict(apples)
        for s, tile in enumerate(apple_tiles):
            if standing[tile]:
                continue
            y, x = divmod(tile, wp)
            near = sum(
                standing[other]
                and other != tile
                and math.dist((y, x), divmod(other, wp)) <= c.regrowth_radius + 1e-9
                for other in apple_tiles
            )
            chance = c.regrowth_probabilities[min(near, len(c.regrowth_probabilities) - 1)]
            blocked = any(present[k] and not tagged[k] and pos[k] == tile for k in range(n))
            if not blocked and float(draw[b, s]) < torch.tensor(chance).item():
                apples[tile] = True
        # Observation windows, heading up, after the step.
        side, r = 2 * c.view_radius + 1, c.view_radius
        now_present = [left[k] == 0 for k in range(n)]
        maps = torch.zeros(n, len(MAP_CHANNELS), side, side)
        for i in range(n):
            if not now_present[i]:
                continue
            fy, fx = HEADINGS[heading[i]]
            ry, rx = HEADINGS[(heading[i] + 1) % 4]
            for a in range(side):
                for v in range(side):
                    u, vv = a - r, v - r
                    tile = pos[i] + (-u * fy + vv * ry) * wp + (-u * fx + vv * rx)
                    maps[i, 0, a, v] = float(walls[tile])
                    maps[i, 1, a, v] = float(apples.get(tile, False))
                    maps[i, 2, a, v] = float(
                        any(now_present[k] and pos[k] == tile for k in range(n))
                    )
        for key, value in [
            ("pos", pos),
            ("heading", heading),
            ("out", left),
            ("cooldown", cooldown),
            ("apples", [apples[tile] for tile in apple_tiles]),
            ("reward", reward),
            ("hits", [float(sum(row)) for row in struck]),
            ("tagged", [float(not p) for p in present]),
            ("fired", [float(f) for f in fired]),
        ]:
            out[key].append(value)
        out["obs_map"].append(maps.reshape(n, -1))
    result = {k: torch.tensor(v) for k, v in out.items() if k != "obs_map"}
    result["obs_map"] = torch.stack(out["obs_map"])
    return result


@pytest.mark.parametrize(
    "config",
    [
        CommonsConfig(num_agents=4, map_text=SMALL, view_radius=2, fire_cooldown=2, tag_duration=3),
        CommonsConfig(
            num_agents=5,
            map_text=SMALL,
            view_radius=3,
            beam_length=4,
            beam_radius=2,
            fire_cooldown=1,
            tag_duration=1,
            regrowth_probabilities=[0.05, 0.3, 0.6],
            regrowth_radius=1.5,
        ),
        CommonsConfig(num_agents=3, map_text=SMALL, tagging=False),
    ],
    ids=["tagging", "wide-beam-fast-regrowth", "no-tagging"],
)
def test_step_matches_the_rules_written_plainly(config):
    """60 steps of random acts in 3 worlds: positions, headings, tag and cooldown counters,
    apples, rewards, the recorded infos and every observation window equal the reference."""
    config.validate()
    w = CommonsWorld(config, batch_size=3)
    w.reset(seed=4)
    gen = torch.Generator().manual_seed(9)
    map_slice = w.layout.slices["map"]
    tags = 0
    for _ in range(60):
        actions = torch.randint(8, (3, config.num_agents, 1), generator=gen)
        state = w.gen.get_state()
        draw = torch.rand(
            3, w.num_apple_tiles, generator=torch.Generator().set_state(state.clone())
        )
        want = reference_step(w, actions, draw)
        st = w.step(actions)
        for key in ("pos", "heading", "out", "cooldown", "apples"):
            assert torch.equal(getattr(w, key).cpu(), want[key].to(getattr(w, key).dtype)), key
        assert torch.equal(st.reward, want["reward"])
        for key in ("hits", "tagged", "fired"):
            assert torch.equal(st.info[key], want[key]), key
        assert torch.equal(st.info["harvest"], want["reward"])
        assert torch.equal(st.obs[..., map_slice], want["obs_map"])
        tags += int(want["hits"].sum())
    if config.tagging:
        assert tags > 0  # the beams were exercised
