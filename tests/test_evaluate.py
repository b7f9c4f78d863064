"""Evaluation: tidy records, per-episode metrics and Student-t confidence intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from coopsim import metrics
from coopsim import scenario as sc
from coopsim.evaluate import (
    confidence_interval,
    evaluate,
    summarise,
    tidy_records,
)
from coopsim.measures import MEASURES


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
