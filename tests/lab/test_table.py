"""A Play table without a browser: seats, rounds under two rules, a vote, a seat that leaves,
and the run directories it leaves behind."""

from __future__ import annotations

import random
import threading

import pytest

from coopsim.analysis.rules import rules_table
from coopsim.lab import lab_agents, lab_rules, table
from coopsim.record import load_run

A, B = "public_goods_institution", "public_goods_matching"


def settle_by_hand(state, rule_index, levels, pool):
    """The round's payoffs by the lab's arithmetic (held to the world in test_lab_rules)."""
    rule = state["rules"][rule_index]
    c = [lab_rules.grid(e, rule["levels"])[k] for e, k in zip(rule["endowments"], levels)]
    return lab_rules.settle(c, rule["endowments"], rule["multiplier"], rule["mechanisms"], pool)


def test_two_people_two_rules_and_a_vote(tmp_path):
    t = table.create(tmp_path, A, B, people=2, rounds=3, now=0.0)
    ann = table.join(tmp_path, t, "Ann", seat=0, now=1.0)
    assert table.view(tmp_path, t, now=2.0)["phase"] == "waiting"
    with pytest.raises(table.TableError, match="seat 1 is taken"):
        table.join(tmp_path, t, "Bob", seat=0, now=2.0)
    bob = table.join(tmp_path, t, "Bob", now=3.0)  # the first free seat: 2
    state = table.view(tmp_path, t, now=3.0)
    assert state["phase"] == "play" and sorted(state["seats"]) == ["0", "1"]
    rnd = random.Random(0)
    chosen = {0: [], 1: []}
    for rule_index in (0, 1):
        pool = 0.0
        for r in range(3):
            mine = [rnd.randrange(21), rnd.randrange(21)]
            table.act(tmp_path, t, ann, mine[0], now=4.0)
            assert len(table.view(tmp_path, t, now=4.0)["rounds"][rule_index]) == r  # waits
            table.act(tmp_path, t, bob, mine[1], now=4.0)
            state = table.view(tmp_path, t, now=4.0)
            played = state["rounds"][rule_index][r]
            assert played["levels"][:2] == mine
            # the agents in seats 3 and 4 chose as the lab's agents do on this history
            history = [
                {"contributions": p["contributions"], "net": p["net"]}
                for p in state["rounds"][rule_index][:r]
            ]
            rule = state["rules"][rule_index]
            for seat in (2, 3):
                agent = rule["agents"][str(seat)]
                level = lab_agents.choose_level(agent, seat, r, history, rule, random.Random(0))
                assert played["levels"][seat] == level
            assert played["controllers"] == ["human", "human"] + rule["seat_policy"][2:]
            out = settle_by_hand(state, rule_index, played["levels"], pool)
            pool = out["pool"]
            assert played["net"] == pytest.approx(out["net"], abs=5e-3)  # to the cent
            chosen[rule_index].append(mine)
    assert state["phase"] == "vote"
    with pytest.raises(table.TableError, match="there is no vote now|allowed: A or B"):
        table.vote(tmp_path, t, ann, "C", now=5.0)
    table.vote(tmp_path, t, ann, "A", now=5.0)
    table.vote(tmp_path, t, bob, "B", now=5.0)
    state = table.view(tmp_path, t, now=5.0)
    assert state["phase"] == "done" and len(state["runs"]) == 2
    runs = [load_run(p) for p in state["runs"]]
    for i, run in enumerate(runs):
        ep = run.episodes
        by_seat = ep.groupby("agent", observed=True)["controller"].first().tolist()
        assert by_seat == ["human", "human", "conditional_cooperator", "free_rider"]
        humans = ep[ep["controller"] == "human"].sort_values(["round", "agent"])
        levels = [p["levels"][:2] for p in state["rounds"][i]]
        rule = state["rules"][i]
        unit = rule["endowments"][0] / (rule["levels"] - 1)
        assert humans["contribution"].round(6).tolist() == pytest.approx(
            [k * unit for pair in levels for k in pair]
        )
        assert run.summary["votes"]["counts"] == {"A": 1, "B": 1}
        assert run.summary["votes"]["this_rule"] == "AB"[i]
        assert run.summary["play"]["people"]["1"]["name"] == "Ann"
        assert set(ep.loc[ep["agent"] == 1, "vote"]) == {"B"}
    assert runs[0].summary["scenario"] == A and runs[1].summary["scenario"] == B
    ranked = rules_table(runs)
    assert set(ranked["scenario"]) == {A, B}
    # beside a simulation of the same rule, the table is a rule of its own, said as such
    from coopsim import scenario as scenario_mod
    from coopsim.runner import run_scenario

    simulated = load_run(run_scenario(scenario_mod.load(A), out=tmp_path / "sim", episodes=2))
    both = rules_table([runs[0], simulated])
    labels = list(dict.fromkeys(both["rule"]))
    assert len(labels) == 2 and labels[0].endswith(", played by people")
    assert not labels[1].endswith("played by people")
    assert set(both.loc[both["rule"] == labels[0], "n"]) <= {1}  # one table, not pooled


def test_a_person_who_leaves_is_replaced_by_the_seats_agent(tmp_path):
    t = table.create(tmp_path, A, people=2, rounds=3, timeout_s=30, now=0.0)
    ann = table.join(tmp_path, t, "Ann", now=0.0)
    bob = table.join(tmp_path, t, "Bob", now=0.0)
    table.act(tmp_path, t, ann, 20, now=1.0)
    table.act(tmp_path, t, bob, 20, now=1.0)  # round 1 settled; round 2's clock starts at 1
    table.act(tmp_path, t, ann, 10, now=2.0)
    assert len(table.view(tmp_path, t, now=30.0)["rounds"][0]) == 1  # Bob still has time
    state = table.view(tmp_path, t, now=31.5)  # Bob's time is up
    assert state["seats"]["1"]["left"] == ["A", 2]
    with pytest.raises(table.TableError, match="your time ran out"):
        table.act(tmp_path, t, bob, 0, now=32.0)
    table.act(tmp_path, t, ann, 0, now=32.0)  # Ann alone now: round 3 settles at once
    state = table.view(tmp_path, t, now=32.0)
    assert state["phase"] == "done"
    ep = load_run(state["runs"][0]).episodes
    bob_rows = ep[ep["agent"] == 1].sort_values("round")["controller"].tolist()
    assert bob_rows == ["human", "conditional_cooperator", "conditional_cooperator"]
    assert load_run(state["runs"][0]).summary["play"]["people"]["2"]["left"] == ["A", 2]


def test_start_early_fills_the_empty_seats_with_agents(tmp_path):
    t = table.create(tmp_path, A, people=3, rounds=2, now=0.0)
    with pytest.raises(table.TableError, match="nobody is seated"):
        table.start(tmp_path, t, now=0.0)
    me = table.join(tmp_path, t, "Me", seat=3, now=0.0)
    table.start(tmp_path, t, now=0.0)
    for _ in range(2):
        table.act(tmp_path, t, me, 5, now=1.0)
    state = table.view(tmp_path, t, now=1.0)
    assert state["phase"] == "done"
    assert state["rounds"][0][0]["controllers"][3] == "human"
    assert state["rounds"][0][0]["controllers"][:3] == ["conditional_cooperator"] * 3


def test_people_acting_at_once_lose_no_move(tmp_path):
    t = table.create(tmp_path, A, people=4, rounds=1, now=0.0)
    tokens = [table.join(tmp_path, t, f"p{s}", now=0.0) for s in range(4)]
    threads = [
        threading.Thread(target=table.act, args=(tmp_path, t, tok, s, 1.0))
        for s, tok in enumerate(tokens)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    state = table.view(tmp_path, t, now=1.0)
    assert state["rounds"][0][0]["levels"] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda runs, t, tok: table.act(runs, t, tok, 99), "level: got 99, allowed: 0 to 20"),
        (lambda runs, t, tok: table.act(runs, t, "nope", 1), "you have no seat here"),
        (lambda runs, t, tok: table.view(runs, "../../etc"), "no such table"),
        (lambda runs, t, tok: table.view(runs, "0123abcd"), "no such table"),
        (lambda runs, t, tok: table.create(runs, A, people=5), "people: got 5, allowed: 1 to 4"),
        (lambda runs, t, tok: table.create(runs, A, rounds=0), "rounds: got 0"),
        (
            lambda runs, t, tok: table.create(runs, A, "public_goods_punishment"),
            "punishment's second stage is not on the Play page yet",
        ),
    ],
)
def test_refusals_are_one_line(tmp_path, call, words):
    from coopsim.schema import ConfigError

    t = table.create(tmp_path, A, people=1, rounds=2)
    tok = table.join(tmp_path, t, "Me")
    with pytest.raises((table.TableError, ConfigError), match=words) as err:
        call(tmp_path, t, tok)
    assert "\n" not in str(err.value)


def test_a_planner_rule_replayed_round_by_round(tmp_path):
    from coopsim import scenario as scenario_mod
    from coopsim.runner import run_scenario

    run = run_scenario(
        scenario_mod.load("democratic_ai_planner"), out=tmp_path / "sim", iterations=1, episodes=2
    )
    t = table.create(tmp_path, str(run), planner="replay", people=1, rounds=4, now=0.0)
    me = table.join(tmp_path, t, "Me", seat=1, now=0.0)
    for level in (10, 0, 5, 10):
        table.act(tmp_path, t, me, level, now=1.0)
    state = table.view(tmp_path, t, now=1.0)
    rule = state["rules"][0]
    values = rule["controls_by_round"]["values"]
    assert len(values) == 4 and "replayed round by round" in rule["planner_note"]
    pool, apart = 0.0, 0.0
    for r, played in enumerate(state["rounds"][0]):
        rule_r = {**rule, "mechanisms": rule["mechanisms_by_round"][r]}
        assert rule_r["mechanisms"][0]["params"]["w"] == pytest.approx(values[r][0])
        out = settle_by_hand({"rules": [rule_r]}, 0, played["levels"], pool)
        assert played["net"] == pytest.approx(out["net"], abs=5e-3)  # this round's controls
        fixed = settle_by_hand(state, 0, played["levels"], pool)  # the mean's rule instead
        apart = max(apart, max(abs(a - b) for a, b in zip(played["net"], fixed["net"])))
    assert apart > 0.01  # the rounds' rules are not the mean's: the replay is not vacuous
    assert state["phase"] == "done"
    ep = load_run(state["runs"][0]).episodes
    assert ep.groupby("agent")["controller"].first().tolist() == ["ppo", "human", "ppo", "ppo"]
