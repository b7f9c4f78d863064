"""Evaluation: tidy records, per-episode metrics and Student-t confidence intervals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from coopsim import metrics
from coopsim import scenario as sc
from coopsim.evaluate import (
    NonFiniteMeasure,
    check_finite,
    confidence_interval,
    evaluate,
    summarise,
    tidy_records,
)
from coopsim.measures import MEASURES
from coopsim.runner import run_scenario


@pytest.fixture(scope="module")
def pd_eval():
    """Tit-for-tat against a random player: episodes differ, so the CI has width."""
    return evaluate(sc.load("prisoners_dilemma"), seed=1, episodes=12)


@pytest.fixture(scope="module")
def punish_eval():
    return evaluate(sc.load("public_goods_punishment"), seed=0, episodes=3)


def test_summary_mean_is_the_mean_of_episode_metrics(pd_eval):
    table = pd_eval.episode_metrics
    assert len(table) == 12
    assert list(table["episode"]) == list(range(12))
    # Every measure of a world with contributions and a known optimum; the commons' measures
    # read what only a resource world records.
    commons = {"harvest_per_step", "harvest_equality", "sustainability", "peace"}
    commons |= {"final_stock", "mean_stock"}
    commons |= {"late_income_share", "income_cv_periods"}  # the economy's taxable income
    assert set(pd_eval.summary) == set(MEASURES) - commons
    for metric, s in pd_eval.summary.items():
        assert s["mean"] == pytest.approx(table[metric].mean(), rel=1e-12, abs=1e-12)
        assert s["n"] == 12
        assert s["std"] == pytest.approx(table[metric].std(ddof=1), rel=1e-9, abs=1e-12)
    assert pd_eval.summary["productivity"]["ci_high"] > pd_eval.summary["productivity"]["ci_low"]


def test_confidence_interval_matches_scipy(pd_eval):
    for metric in pd_eval.summary:
        values = pd_eval.episode_metrics[metric].to_numpy()
        s = confidence_interval(values)
        sem = values.std(ddof=1) / np.sqrt(values.size)
        if sem == 0:
            assert s["ci_low"] == s["ci_high"] == s["mean"]
            continue
        lo, hi = stats.t.interval(0.95, values.size - 1, loc=values.mean(), scale=sem)
        assert s["ci_low"] == pytest.approx(lo, rel=1e-9)
        assert s["ci_high"] == pytest.approx(hi, rel=1e-9)


def test_confidence_interval_by_hand():
    s = confidence_interval(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    half = 2.7764451051977987 * np.sqrt(2.5) / np.sqrt(5)  # t(0.975, 4) * sd / sqrt(n)
    assert s["mean"] == 3.0 and s["n"] == 5
    assert s["ci_low"] == pytest.approx(3 - half) and s["ci_high"] == pytest.approx(3 + half)
    s90 = confidence_interval(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), level=0.9)
    assert s90["ci_high"] - s90["mean"] < half
    one = confidence_interval(np.array([7.0]))
    assert one["ci_low"] == one["mean"] == one["ci_high"] == 7.0
    table = summarise(pd.DataFrame({"gini": [0.1, 0.3], "other": [1, 2]}))
    assert set(table) == {"gini"} and table["gini"]["mean"] == pytest.approx(0.2)


def test_episode_metrics_recomputed_from_the_tidy_rows(punish_eval):
    rows = punish_eval.episodes
    wealth = rows.groupby(["episode", "agent"])["net"].sum().unstack("agent")  # [B, N]
    w = torch.tensor(wealth.to_numpy(), dtype=torch.float64)
    table = punish_eval.episode_metrics
    np.testing.assert_allclose(table["productivity"], w.sum(-1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(table["rawls_welfare"], w.min(-1).values.numpy(), rtol=1e-6)
    floored = w.clamp(min=0)
    np.testing.assert_allclose(table["gini"], metrics.gini(floored).numpy(), rtol=1e-6)
    np.testing.assert_allclose(table["theil"], metrics.theil(floored).numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        table["equality_times_productivity"],
        (1 - metrics.gini(floored) * 4 / 3).numpy() * w.sum(-1).numpy(),
        rtol=1e-5,
    )
    rate = rows.groupby("episode")["contribution"].mean() / 20.0
    np.testing.assert_allclose(table["contribution_rate"], rate.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(table["efficiency"], w.sum(-1).numpy() / 1280.0, rtol=1e-6)


def test_equality_is_the_ai_economist_normalised_gini():
    # equality = 1 - N/(N-1) * gini (Zheng et al. 2020); checked here so the test above holds
    w = torch.tensor([[1.0, 2.0, 3.0, 10.0]], dtype=torch.float64)
    assert float(metrics.equality(w)) == pytest.approx(1 - 4 / 3 * float(metrics.gini(w)))


def test_tidy_rows_one_per_episode_round_agent(punish_eval):
    rows = punish_eval.episodes
    assert len(rows) == 3 * 10 * 4
    assert not rows.duplicated(["episode", "round", "agent"]).any()
    assert list(rows.columns[:4]) == ["episode", "round", "agent", "policy"]
    assert list(rows.loc[rows["episode"] == 0, "policy"][:4]) == [
        "punisher",
        "punisher",
        "conditional_cooperator",
        "free_rider",
    ]
    # punishment happened and is recorded with its money
    assert rows["punishment_received"].sum() > 0
    assert np.allclose(rows["net"], rows["gross"] + rows["transfer_peer_punishment"], atol=1e-4)
    free = rows[rows["agent"] == 3]
    assert (free["punishment_received"] == 6).all()  # 3 points from each punisher


def test_tidy_records_layout_by_hand():
    r, b, n = 2, 3, 2
    net = torch.arange(r * b * n, dtype=torch.float32).reshape(r, b, n)
    frame = tidy_records({"net": net, "gross": net * 2}, ["a", "b"])
    for _, row in frame.iterrows():
        e, t, i = int(row["episode"]), int(row["round"]), int(row["agent"])
        assert row["net"] == net[t, e, i].item()
        assert row["gross"] == 2 * net[t, e, i].item()
        assert row["policy"] == "ab"[i]
    # episode-major order, then round, then agent
    assert list(frame["episode"]) == sorted(frame["episode"])
    assert frame["wealth"].iloc[-1] == net[:, -1, -1].sum().item()


def test_evaluation_is_reproducible():
    a = evaluate(sc.load("prisoners_dilemma"), seed=4, episodes=3)
    b = evaluate(sc.load("prisoners_dilemma"), seed=4, episodes=3)
    pd.testing.assert_frame_equal(a.episodes, b.episodes)
    assert a.summary == b.summary


# Two agents, two spawn points; apples beside each (the world walls the map in).
TINY_COMMONS = """
PAA
...
PA.
"""


def tiny_commons(policy: str, steps: int, **world) -> sc.Scenario:
    return sc.from_dict(
        {
            "name": "tiny_commons",
            "world": {
                "kind": "commons",
                "num_agents": 2,
                "map_text": TINY_COMMONS,
                "episode_length": steps,
                "view_radius": 2,
                "regrowth_probabilities": [0.0],
                **world,
            },
            "population": [{"policy": policy, "count": 2}],
            "evaluation": {"episodes": 3, "seed": 0},
        }
    )


def test_commons_run_reports_perolat_measures_by_hand(tmp_path):
    """Greedy harvesters, no regrowth, no beam: the one by the pair of apples takes them at
    steps 1 and 2, the other its one apple at step 1; nothing is left after step 2."""
    run = run_scenario(tiny_commons("greedy_harvester", 4, tagging=False), out=tmp_path)
    summary = json.loads((run / "summary.json").read_text())["metrics"]
    by_hand = {
        "harvest_per_step": 3 / 4,  # 3 apples over 4 steps
        "harvest_equality": 1 - 2 / (2 * 2 * 3),  # returns (2, 1): 1 - |2-1|*2 / (2 N total)
        "sustainability": (1.5 + 1.0) / 2,  # mean steps 1.5 and 1
        "peace": 1.0,
        "final_stock": 0.0,
        "mean_stock": 1 / 4,  # stock 1, 0, 0, 0 after each step
        "productivity": 3.0,
    }
    for name, value in by_hand.items():
        assert summary[name]["mean"] == pytest.approx(value), name
        assert summary[name]["n"] == 3
        assert summary[name]["ci_low"] == pytest.approx(value)  # every episode the same


def test_commons_measures_read_every_step(tmp_path):
    """Random agents that fire the beam: each measure recomputed from the tidy rows (one per
    step, since every step of the commons is a round)."""
    scenario = tiny_commons("random", 30, tag_duration=3, fire_cooldown=1, beam_length=2)
    result = evaluate(scenario, seed=2, episodes=4)
    rows = result.episodes
    assert rows["round"].nunique() == 30
    assert rows["tagged"].sum() > 0  # the beam did hit
    table = result.episode_metrics.set_index("episode")
    by_episode = rows.groupby("episode")
    np.testing.assert_allclose(table["harvest_per_step"], by_episode["harvest"].sum() / 30)
    np.testing.assert_allclose(table["peace"], 1 - by_episode["tagged"].mean())
    stock = rows[rows["agent"] == 0].groupby("episode")["stock"]
    np.testing.assert_allclose(table["final_stock"], stock.last())
    np.testing.assert_allclose(table["mean_stock"], stock.mean())


# -- a trained planner, played in the evaluation ---------------------------------------------
def _briefly_trained(name: str):
    from coopsim.train import Trainer

    scenario = sc.load(name)
    scenario.training.num_worlds = 8
    trainer = Trainer(scenario, iterations=1)
    trainer.train()
    return trainer


def test_evaluation_replays_the_planner_and_measures_net_welfare_by_hand():
    from coopsim.train import evaluate_trained

    trainer = _briefly_trained("public_goods_matching_planner")
    result = evaluate_trained(trainer, episodes=6)
    frame = result.episodes
    assert result.planner["mode"] == "replay" and result.planner["controls"] == ["matching.rate"]
    # the first decision, seen from no income and the rates in force, is the policy's argmax
    first = trainer.planner.greedy_rates(torch.zeros(6, 4), torch.zeros(6, 1))[:, 0]  # [E]
    opening = frame[(frame["round"] == 0) & (frame["agent"] == 0)]["rate_0"].to_numpy()
    assert opening == pytest.approx(first.numpy())
    # one rule per episode (period 10 = the episode): the rate never moves within one
    assert (frame.groupby("episode")["rate_0"].nunique() == 1).all()
    assert result.planner["mean_controls"] == pytest.approx([float(first.mean())])
    # net welfare: total payoff less 1.8 x what the sponsor paid (rate x contributions)
    rounds = frame[frame["agent"] == 0].set_index(["episode", "round"])["rate_0"]
    given = frame.groupby(["episode", "round"])["contribution"].sum()
    outlay = (rounds * given).groupby("episode").sum().to_numpy()
    welfare = frame.groupby("episode")["net"].sum().to_numpy()
    expected = welfare - 1.8 * outlay
    assert result.episode_metrics["objective"].to_numpy() == pytest.approx(expected, rel=1e-5)


def test_a_paired_evaluation_measures_the_vote_against_the_baselines_twins():
    from coopsim.train import evaluate_trained

    trainer = _briefly_trained("democratic_ai_planner")
    result = evaluate_trained(trainer, episodes=5)
    assert len(result.episode_metrics) == 5  # one row per pair, the planner's world
    assert sorted(result.episodes["episode"].unique()) == list(range(5))
    votes = result.episode_metrics["objective"].to_numpy()
    assert ((votes * 4) % 1 == 0).all() and (votes >= 0).all() and (votes <= 1).all()
    assert result.summary["objective"]["n"] == 5
    planner = result.planner
    assert planner["baseline"] == "strict_egalitarian"
    twins = planner["baseline_metrics"]
    assert twins["productivity"]["n"] == 5 and "objective" not in twins
    # the rules change round by round (period 1) and lie on the grid of w, v
    for k in (0, 1):
        values = result.episodes[f"rate_{k}"].to_numpy()
        assert np.allclose(values * 10, np.round(values * 10), atol=1e-5)


def test_a_non_finite_measure_is_an_error_naming_the_run_and_the_measure(tmp_path):
    """A world whose numbers break (here an endowment the loader would refuse, set after
    loading as an old or hand-made config could) publishes nothing: the run and the measure
    are named, and no run folder is left behind."""
    scenario = sc.load("public_goods")
    scenario.world.endowments = [float("nan"), 2.0, 2.0, 2.0]
    with pytest.raises(NonFiniteMeasure) as info:
        evaluate(scenario, episodes=2)
    err = info.value
    assert err.source == "run of 'public_goods' (seed 0)"
    assert err.field in MEASURES and "nan" in err.problem and "2 of 2" in err.problem
    with pytest.raises(NonFiniteMeasure):
        run_scenario(scenario, out=tmp_path, episodes=2)
    assert list(tmp_path.iterdir()) == []


def test_check_finite_names_the_first_broken_measure_and_its_episodes():
    good = pd.DataFrame({"equality": [1.0, 0.5], "productivity": [3.0, 4.0]})
    check_finite(good, "run x")
    bad = good.assign(productivity=[3.0, np.inf])
    with pytest.raises(
        NonFiniteMeasure, match=r"run x: productivity: came out inf in 1 of 2 .*episode 1"
    ):
        check_finite(bad, "run x")


def test_a_fixed_rule_measures_net_welfare_with_its_sponsors_outlay():
    """Without a planner the sponsor still pays: net welfare is welfare less the 2:1 match."""
    import dataclasses

    scenario = sc.load("public_goods_matching")
    scenario.evaluation = dataclasses.replace(scenario.evaluation, objective="net_welfare")
    result = evaluate(scenario, seed=0, episodes=4)
    table = result.episode_metrics
    frame = result.episodes
    contributed = frame.groupby("episode")["contribution"].sum().to_numpy()
    outlay = 2.0 * contributed  # the sponsor adds rate x each contribution to the pot
    welfare = table["utilitarian_welfare"].to_numpy()
    assert outlay.min() > 0
    np.testing.assert_allclose(table["objective"].to_numpy(), welfare - outlay, rtol=1e-6)
