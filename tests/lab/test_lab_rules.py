"""The lab's plain-Python payoffs and observations against coopsim's own world, to the cent."""

from __future__ import annotations

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


@pytest.mark.parametrize("endowments", [[], [10.0, 2.0, 2.0, 2.0]])
@pytest.mark.parametrize("name", list(MECHS))
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
    history, pool = [], 0.0
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
        out = lab_rules.settle(c, rule["endowments"], 1.6, rule["mechanisms"], pool)
        pool = out["pool"]
        assert out["net"] == pytest.approx(step.info["net"][0].tolist(), abs=1e-4)
        history.append({"contributions": c, "net": out["net"]})


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
