"""People who played a table, as a stress population: the schedule estimated from their rounds,
the population member that plays it, and a table's seats drawn from a population file."""

from __future__ import annotations

import random

import pytest
import torch

from coopsim import builder
from coopsim import scenario as scenario_mod
from coopsim.agents.scripted import SCRIPTED
from coopsim.lab import lab_agents, table
from coopsim.lab.people import estimate_schedule
from coopsim.schema import ConfigError, build
from coopsim.stress.members import member_seats
from coopsim.stress.populations import population_from_dict

A = "public_goods_institution"  # conditional cooperators in seats 2-4 (with a free rider)


def played_table(runs, mine) -> str:
    """A table where seat 1 is a person who gives ``mine[r]`` levels (of 20) in round r."""
    t = table.create(runs, A, people=1, rounds=len(mine), now=0.0)
    me = table.join(runs, t, "Me", seat=0, now=0.0)
    for level in mine:
        table.act(runs, t, me, level, now=1.0)
    state = table.view(runs, t, now=1.0)
    assert state["phase"] == "done"
    return state


def test_the_schedule_is_what_the_person_gave_given_the_others(tmp_path):
    state = played_table(tmp_path, [20, 4, 4, 4, 4])
    # the others' mean share last round, and what the person gave in answer (shares of 20)
    rounds = state["rounds"][0]
    pairs = []
    for r in range(1, 5):
        last = rounds[r - 1]["contributions"]
        pairs.append((round(sum(last[1:]) / 3 / 20 * 10), rounds[r]["contributions"][0] / 20))
    found = estimate_schedule(state["runs"][0])
    assert found["initial"] == pytest.approx(1.0)
    for point, share in pairs:
        assert found["schedule"][point] == pytest.approx(share)
    assert found["rounds"] == 5
    # a folder of tables pools them
    state2 = played_table(tmp_path, [0, 0, 0])
    both = estimate_schedule(tmp_path)
    assert len(both["runs"]) == 2 and both["rounds"] == 8
    assert both["initial"] == pytest.approx(0.5)
    assert state2["runs"][0] != state["runs"][0]


def test_people_member_plays_the_schedule_in_the_stress_population(tmp_path):
    state = played_table(tmp_path / "runs", [20, 10, 10, 10])
    config = population_from_dict(
        {"world": "public_goods", "members": [{"people": str(tmp_path / "runs"), "share": 1.0}]},
        source="people.toml",
    )
    found = estimate_schedule(state["runs"][0])
    sc = scenario_mod.load(A)
    world = builder.make_world(sc, 1)
    seats = member_seats(config, world)[0]
    assert seats.groups[0][0].params.schedule == found["schedule"]
    obs = world.reset(seed=0)
    # every seat gives the schedule's first-round share, then answers the others
    for r in range(3):
        levels = seats.act(obs, world.gen)[0, :, 0].tolist()
        history_share = obs[0, :, world.spec.obs_fields["others_last_mean_contribution"]]
        for seat in range(4):
            first = r == 0
            others = float(history_share[seat])
            share = (
                found["initial"] if first else lab_agents.schedule_share(found["schedule"], others)
            )
            assert levels[seat] == round(share * 20)
        obs = world.step(torch.tensor(levels)[None, :, None]).obs


def test_people_member_refusals(tmp_path):
    config = population_from_dict(
        {"world": "public_goods", "members": [{"people": str(tmp_path), "share": 1.0}]},
        source="people.toml",
    )
    world = builder.make_world(scenario_mod.load(A), 1)
    with pytest.raises(ConfigError, match=r"members\[0\]\.people: .*no run directory"):
        member_seats(config, world)
    with pytest.raises(ConfigError, match="exactly one of policy"):
        population_from_dict(
            {
                "world": "public_goods",
                "members": [{"people": str(tmp_path), "policy": "free_rider", "share": 1.0}],
            },
            source="people.toml",
        )


def test_the_lab_schedule_matches_the_policy():
    params = build(SCRIPTED["people_schedule"].Params, {"initial": 0.3, "schedule": [0, 0.8, 0.2]})
    sc = scenario_mod.load(A)
    world = builder.make_world(sc, 1)
    policy = SCRIPTED["people_schedule"](world.spec, params)
    obs = world.reset(seed=0).repeat(7, 1, 1)
    others = torch.linspace(0, 1, 7)
    obs[:, :, world.spec.obs_fields["first_round"]] = 0.0
    obs[:, :, world.spec.obs_fields["others_last_mean_contribution"]] = others[:, None, None]
    got = policy.share(obs, world.gen)[:, 0].tolist()
    want = [lab_agents.schedule_share([0, 0.8, 0.2], float(x)) for x in others]
    assert got == pytest.approx(want, abs=1e-6)
    assert want[3] == pytest.approx(0.8)


def test_a_table_draws_its_agents_from_a_population_file(tmp_path):
    t = table.create(tmp_path, A, population="fgf2001", people=1, rounds=2, seed=3)
    state = table.view(tmp_path, t)
    rule = state["rules"][0]
    assert rule["population"] == "fgf2001"
    assert set(rule["seat_policy"]) <= {
        "conditional_cooperator",
        "free_rider",
        "hump_shaped",
        "random",
    }
    assert len({a["policy"] for a in rule["agents"].values()}) >= 1
    me = table.join(tmp_path, t, "Me")
    for _ in range(2):
        table.act(tmp_path, t, me, 5)
    state = table.view(tmp_path, t)
    from coopsim.record import load_run

    ep = load_run(state["runs"][0]).episodes
    assert ep.groupby("agent")["policy"].first().tolist() == rule["seat_policy"]
    assert ep.groupby("agent")["controller"].first().tolist()[1:] == rule["seat_policy"][1:]
    with pytest.raises(table.TableError, match="a table plays public_goods"):
        table.create(tmp_path, A, population="commons_greedy")


def test_hump_shaped_in_the_lab_is_coopsims():
    from coopsim.lab.otree_export import build_rule

    sc = scenario_mod.load(A)
    rule = build_rule(A, [0])
    world = builder.make_world(sc, 1)
    params = build(SCRIPTED["hump_shaped"].Params, {"peak": 0.7, "turn": 0.4})
    policy = SCRIPTED["hump_shaped"](world.spec, params)
    agent = {"policy": "hump_shaped", "params": {"peak": 0.7, "turn": 0.4}}
    obs, history, rnd = world.reset(seed=0), [], random.Random(0)
    for r in range(6):
        wanted = policy.act(obs, world.gen)[0, :, 0].tolist()
        for seat in range(4):
            got = lab_agents.choose_level(agent, seat, r, history, rule, rnd)
            assert got == wanted[seat]
        levels = [rnd.randrange(21) for _ in range(4)]
        step = world.step(torch.tensor(levels)[None, :, None])
        obs = step.obs
        history.append(
            {"contributions": [k * 1.0 for k in levels], "net": step.info["net"][0].tolist()}
        )
    assert len(set(wanted)) > 1  # the tent answers the others: not one level for all


def test_a_table_seats_people_who_played_here(tmp_path):
    """A population file naming earlier tables fills a new table's seats with their schedule."""
    played_table(tmp_path / "runs", [20, 2, 2])
    found = estimate_schedule(tmp_path / "runs")
    pop = tmp_path / "our_class.toml"
    pop.write_text(
        f'world = "public_goods"\n[[members]]\npeople = "{tmp_path / "runs"}"\nshare = 1.0\n'
    )
    t = table.create(tmp_path / "new", A, population=str(pop), people=1, rounds=2)
    rule = table.view(tmp_path / "new", t)["rules"][0]
    assert rule["seat_policy"] == ["people_schedule"] * 4
    assert rule["agents"]["1"]["params"] == {
        "initial": found["initial"],
        "schedule": found["schedule"],
    }
