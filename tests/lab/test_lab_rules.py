"""The lab's plain-Python payoffs and observations against coopsim's own world, to the cent."""

from __future__ import annotations

import json
import random

import pytest
import torch

from coopsim import builder
from coopsim import scenario as scenario_mod
from coopsim.lab import lab_agents, lab_rules
from coopsim.lab.otree_export import build_rule

MECHS = {
    "none": [],
    "matching": [{"kind": "matching", "rate": 0.5, "observed": True}],
    "institution_rebate": [
        {
            "kind": "sanction_institution",
            "threshold": 0.6,
            "fine": 1.5,
            "fee": 0.25,
            "observed": True,
        },
        {"kind": "lump_sum", "share": 0.5},
    ],
    "redistribution": [{"kind": "redistribution", "w": 0.3, "v": 0.6}],
    "tax_every_two_rounds": [
        {"kind": "tax", "brackets": [0.0, 12.0, 16.0], "rates": [0.1, 0.3, 0.6], "period": 2},
        {"kind": "lump_sum", "share": 0.5},
    ],
    "provision_point": [{"kind": "provision_point", "threshold": 0.5, "refund": True}],
    "provision_point_no_refund": [{"kind": "provision_point", "threshold": 0.4, "refund": False}],
}


def scenario_dict(mechanisms: list[dict], endowments: list[float]) -> dict:
    return {
        "name": "lab_check",
        "description": "lab arithmetic check",
        "world": {
            "kind": "public_goods",
            "num_agents": 4,
            "endowment": 10.0,
            "endowments": endowments,
            "multiplier": 1.6,
            "rounds": 6,
            "levels": 11,
        },
        "mechanisms": mechanisms,
        "population": [
            {"policy": "conditional_cooperator", "count": 2},
            {"policy": "free_rider", "count": 2},
        ],
    }


CASES = [(name, endowments) for name in MECHS for endowments in ([], [10.0, 2.0, 2.0, 2.0])]


@pytest.mark.parametrize("name, endowments", CASES)
def test_payoffs_and_observations_match_the_world(tmp_path, name, endowments):
    path = tmp_path / "s.toml"
    import tomli_w

    path.write_bytes(tomli_w.dumps(scenario_dict(MECHS[name], endowments)).encode())
    sc = scenario_mod.load(path)
    rule = build_rule(str(path), [0])
    world = builder.make_world(sc, 1)
    obs = world.reset(seed=0)
    population = builder.make_population(sc, world)
    rnd = random.Random(name + str(endowments))
    history, pool, state = [], 0.0, {}
    for r in range(sc.world.rounds):
        for seat in range(4):
            mine = lab_agents.observation(seat, r, history, rule)
            assert mine == pytest.approx(obs[0, seat].tolist(), abs=1e-5)
        # the scripted seats choose as coopsim's policies do on the same observation
        wanted = population.act(obs, world.gen)[0, :, 0].tolist()
        for seat in range(1, 4):
            agent = rule["agents"][str(seat)]
            got = lab_agents.choose_level(agent, seat, r, history, rule, random.Random(0))
            assert got == wanted[seat]
        levels = [rnd.randrange(11) for _ in range(4)]
        step = world.step(torch.tensor(levels)[None, :, None])
        obs = step.obs
        c = [lab_rules.grid(e, 11)[k] for e, k in zip(rule["endowments"], levels)]
        out = lab_rules.settle(
            c,
            rule["endowments"],
            1.6,
            rule["mechanisms"],
            pool,
            round_index=r,
            rounds=6,
            state=state,
        )
        pool, state = out["pool"], out["state"]
        assert out["net"] == pytest.approx(step.info["net"][0].tolist(), abs=1e-4)
        history.append(
            {"contributions": c, "net": out["net"], "state": json.loads(json.dumps(state))}
        )


def test_exported_actor_gives_the_ppo_logits():
    from coopsim.agents.ppo import PPOLearner
    from coopsim.config.training import TrainingConfig
    from coopsim.lab.otree_export import _actor_json

    sc = scenario_mod.load("democratic_libertarian")
    world = builder.make_world(sc, 1)
    learner = PPOLearner(world.spec, 4, sc.training or TrainingConfig(), seed=3)
    with torch.no_grad():  # weights of a trained size, not the near-zero initial head
        for p in learner.net.parameters():
            p.normal_(generator=torch.Generator().manual_seed(p.numel()))
    actor = {**_actor_json(learner.net.state_dict(), sc.world.levels), "num_seats": 4}
    obs = world.reset(seed=0)
    logits, _ = learner.forward(obs)
    for seat in range(4):
        mine = lab_agents.actor_logits(actor, obs[0, seat].tolist(), seat)
        assert mine == pytest.approx(logits[0][0, seat].tolist(), abs=1e-4)


def test_the_tax_and_provision_point_move_money_in_these_checks():
    """The cases above are not vacuous: the tax collects in even rounds, the point refunds."""
    mechs = [
        {"label": "tax", "kind": "tax", "params": MECHS["tax_every_two_rounds"][0] | {"scale": 1}},
    ]
    state: dict = {}
    first = lab_rules.settle(
        [0, 0, 0, 0], [10] * 4, 1.6, mechs, round_index=0, rounds=6, state=state
    )
    assert first["transfers"]["tax"] == [0.0] * 4 and state["income"]["tax"] == [10.0] * 4
    second = lab_rules.settle(
        [0, 0, 0, 0], [10] * 4, 1.6, mechs, round_index=1, rounds=6, state=state
    )
    # income 20 per seat: 10% of 12 + 30% of 4 + 60% of 4
    assert second["transfers"]["tax"] == pytest.approx([-(1.2 + 1.2 + 2.4)] * 4)
    point = [
        {"label": "pp", "kind": "provision_point", "params": {"threshold": 0.5, "refund": True}}
    ]
    missed = lab_rules.settle([4, 0, 0, 0], [10] * 4, 1.6, point)
    assert missed["net"] == pytest.approx([10.0] * 4)  # everyone back to their endowment


def test_peer_punishment_in_two_stages_matches_the_world():
    """The punishment scenario's scripted seats choose and punish as coopsim's do, and the
    lab's payoffs for random points are the world's, round by round."""
    from coopsim.envs.public_goods import egocentric_to_absolute

    sc = scenario_mod.load("public_goods_punishment")
    rule = build_rule("public_goods_punishment", [3])  # seats 1-3 scripted (two punishers)
    world = builder.make_world(sc, 1)
    population = builder.make_population(sc, world)
    obs = world.reset(seed=0)
    rnd = random.Random(1)
    history, punished = [], 0
    for r in range(sc.world.rounds):
        wanted = population.act(obs, world.gen, world.action_mask())[0, :, 0].tolist()
        levels = []
        for seat in range(4):
            assert lab_agents.observation(seat, r, history, rule) == pytest.approx(
                obs[0, seat].tolist(), abs=1e-5
            )
            if seat < 3:
                agent = rule["agents"][str(seat)]
                level = lab_agents.choose_level(agent, seat, r, history, rule, rnd)
                assert level == wanted[seat]
                levels.append(level)
            else:
                levels.append(rnd.randrange(21))
        first = torch.zeros(1, 4, len(world.spec.action_nvec), dtype=torch.long)
        first[0, :, 0] = torch.tensor(levels)
        obs = world.step(first).obs  # the contribution stage
        c = [lab_rules.grid(e, 21)[k] for e, k in zip(rule["endowments"], levels)]
        second = population.act(obs, world.gen, world.action_mask())
        wanted_points = egocentric_to_absolute(second[..., 1:])[0].tolist()
        points = []
        for seat in range(4):
            if seat < 3:
                mine = lab_agents.choose_points(rule["agents"][str(seat)], seat, c, rule)
                assert mine == wanted_points[seat]
            else:
                mine = [0 if j == seat else rnd.randrange(11) for j in range(4)]
            points.append(mine)
        punished += sum(map(sum, points[:3]))
        ego = torch.zeros(1, 4, 3, dtype=torch.long)
        for i in range(4):
            for k in range(3):
                ego[0, i, k] = points[i][(i + 1 + k) % 4]
        action = torch.zeros(1, 4, len(world.spec.action_nvec), dtype=torch.long)
        action[..., 1:] = ego
        step = world.step(action)  # the punishment stage: the round is paid
        obs = step.obs
        out = lab_rules.settle(c, rule["endowments"], 1.6, rule["mechanisms"], punishment=points)
        assert out["net"] == pytest.approx(step.info["net"][0].tolist(), abs=1e-4)
        history.append({"contributions": c, "net": out["net"]})
    assert punished > 0  # the punishers did punish
