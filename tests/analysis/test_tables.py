"""Analysis tables checked against hand-computed values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from coopsim import scenario
from coopsim.analysis import (
    agent_outcomes,
    bootstrap_ci,
    compare,
    format_compare,
    lorenz,
    mechanism_flows,
    run_labels,
    summary,
    tax_schedules,
    training_curves,
)
from coopsim.record import RunData, load_run
from coopsim.runner import run_scenario


def synthetic_run(wealth: np.ndarray, name: str = "r", seed: int = 0, **kw) -> RunData:
    """A run whose agents earn ``wealth`` [E, N] in one round each episode."""
    e, n = wealth.shape
    episodes = pd.DataFrame(
        {
            "episode": np.repeat(np.arange(e), n),
            "round": 0,
            "agent": np.tile(np.arange(n), e),
            "policy": "p",
            "net": wealth.reshape(-1),
        }
    )
    summary_ = {"scenario": name, "mechanism": "none", "seed": seed}
    return RunData(Path(f"{name}-s{seed}"), summary_, {}, episodes, **kw)


@pytest.fixture(scope="module")
def tax_run(tmp_path_factory) -> RunData:
    out = tmp_path_factory.mktemp("runs")
    return load_run(run_scenario(scenario.load("public_goods_tax"), out=out, episodes=6))


@pytest.fixture(scope="module")
def noisy_run(tmp_path_factory) -> RunData:
    """Conditional cooperators start at random levels, so episodes differ."""
    out = tmp_path_factory.mktemp("runs")
    return load_run(run_scenario(scenario.load("public_goods_punishment"), out=out, episodes=40))


def test_lorenz_hand_computed():
    run = synthetic_run(np.array([[4.0, 1.0, 3.0, 2.0], [0.0, 0.0, 0.0, 0.0]]))
    curve = lorenz(run)
    # Episode 1: sorted 1,2,3,4 of 10 -> 0.1, 0.3, 0.6, 1; episode 2 has nothing: equal.
    expected = [0.0, (0.1 + 0.25) / 2, (0.3 + 0.5) / 2, (0.6 + 0.75) / 2, 1.0]
    np.testing.assert_allclose(curve["wealth_share"], expected)
    np.testing.assert_allclose(curve["population_share"], [0, 0.25, 0.5, 0.75, 1])


def test_lorenz_floors_negative_wealth():
    run = synthetic_run(np.array([[-5.0, 5.0]]))
    np.testing.assert_allclose(lorenz(run)["wealth_share"], [0.0, 0.0, 1.0])


def test_bootstrap_ci_matches_t_interval_for_normal_data():
    values = np.random.default_rng(1).normal(10.0, 2.0, size=400)
    mean, lo, hi = bootstrap_ci(values, n_boot=4000)
    half = stats.t.ppf(0.975, 399) * values.std(ddof=1) / np.sqrt(400)
    assert mean == pytest.approx(values.mean())
    assert hi - lo == pytest.approx(2 * half, rel=0.1)
    assert lo < mean < hi
    assert bootstrap_ci(values, n_boot=500) == bootstrap_ci(values, n_boot=500)  # seeded
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci(values, level=1.5)


def test_summary_means_equal_summary_json(noisy_run):
    table = summary(noisy_run)
    assert (table["method"] == "bootstrap").all()
    for row in table.itertuples():
        stored = noisy_run.summary["metrics"][row.metric]
        assert row.mean == pytest.approx(stored["mean"])
        assert row.ci_low <= row.mean <= row.ci_high
        assert row.n == 40
    # Without per-episode metrics the stored t-interval is used.
    noisy_run_copy = RunData(noisy_run.path, noisy_run.summary, {}, noisy_run.episodes)
    t_table = summary(noisy_run_copy, ["gini"])
    assert t_table["method"].tolist() == ["t"]
    assert t_table["ci_low"].iloc[0] == noisy_run.summary["metrics"]["gini"]["ci_low"]


def test_agent_outcomes_hand_computed(tax_run):
    table = agent_outcomes(tax_run)
    # Contributors: 16/round untaxed + 2.5 rebate; free riders 36 - 5 tax + 2.5 (10 rounds).
    np.testing.assert_allclose(table["wealth"], [185, 185, 335, 335])
    np.testing.assert_allclose(table["gross"], [160, 160, 360, 360])
    np.testing.assert_allclose(table["transfer_tax"], [0, 0, -50, -50])
    np.testing.assert_allclose(table["transfer_lump_sum"], [25, 25, 25, 25])
    np.testing.assert_allclose(table["contribution"], [20, 20, 0, 0])
    np.testing.assert_allclose(table["wealth_share"], np.array([185, 185, 335, 335]) / 1040)
    assert table["policy"].tolist() == ["always_contribute"] * 2 + ["free_rider"] * 2
    assert list(table.columns[:4]) == ["run", "scenario", "mechanism", "seed"]


def test_mechanism_flows_budget_balanced(tax_run):
    flows = mechanism_flows(tax_run)
    per_round = flows.pivot_table(index="round", columns="source", values="net")
    np.testing.assert_allclose(per_round["tax"], -10.0)  # two free riders pay 5 each
    np.testing.assert_allclose(per_round.sum(axis=1), 0.0)  # all rebated
    assert mechanism_flows(synthetic_run(np.ones((1, 2)))).empty


def test_training_curves_with_and_without_log():
    log = pd.DataFrame({"iteration": [0, 10, 20], "equality": [0.2, 0.4, 0.9], "note": "x"})
    run = synthetic_run(np.ones((1, 2)), metrics=log)
    curves = training_curves(run)
    assert curves["metric"].unique().tolist() == ["equality"]  # text columns left out
    assert curves["iteration"].tolist() == [0, 10, 20]
    smooth = training_curves(run, window=3)["value"].to_numpy()
    np.testing.assert_allclose(smooth, [0.2, 0.3, 0.5])
    empty = training_curves(synthetic_run(np.ones((1, 2))))
    assert empty.empty and "value" in empty.columns
    with pytest.raises(ValueError, match="window"):
        training_curves(run, window=0)


def test_tax_schedules_config_and_learned(tax_run):
    config = tax_schedules(tax_run)
    assert config["cutoff"].tolist() == [0.0, 20.0, 30.0]
    assert config["rate"].tolist() == pytest.approx([0.0, 0.2, 0.5])
    log = pd.DataFrame({"iteration": [0, 5], "tax_rate_0": [0.1, 0.2], "tax_rate_2": [0.3, 0.4]})
    trained = RunData(tax_run.path, tax_run.summary, tax_run.scenario, tax_run.episodes, log)
    learned = tax_schedules(trained).query("source == 'training'")
    assert learned["bracket"].tolist() == [0, 2, 0, 2]
    assert learned["cutoff"].tolist() == [0.0, 30.0, 0.0, 30.0]
    assert learned["rate"].tolist() == pytest.approx([0.1, 0.3, 0.2, 0.4])


def test_compare_by_run_and_by_scenario():
    a0 = synthetic_run(np.array([[1.0, 3.0]]), "a", 0)
    a1 = synthetic_run(np.array([[2.0, 2.0]]), "a", 1)
    b = synthetic_run(np.array([[1.0, 1.0]]), "b", 0)
    for run, eff in ((a0, [0.4, 0.6]), (a1, [0.8, 0.8]), (b, [1.0, 1.0])):
        run.episode_metrics = pd.DataFrame({"efficiency": eff})
    by_run = compare([a0, a1, b], ["efficiency"])
    assert by_run["efficiency"].tolist() == pytest.approx([0.5, 0.8, 1.0])
    assert (
        by_run["efficiency_ci_low"].iloc[0] >= 0.4 and by_run["efficiency_ci_high"].iloc[0] <= 0.6
    )
    by_scen = compare([a0, a1, b], ["efficiency"], by="scenario")
    assert by_scen["runs"].tolist() == [2, 1]
    assert by_scen["efficiency"].tolist() == pytest.approx([0.65, 1.0])
    # Over two seeds the interval spans the two run means.
    assert by_scen["efficiency_ci_low"].iloc[0] == pytest.approx(0.5)
    assert by_scen["efficiency_ci_high"].iloc[0] == pytest.approx(0.8)
    text = format_compare(by_run)
    assert text.loc["efficiency", "a-s0"].startswith("0.500 [")
    with pytest.raises(ValueError, match="by must be"):
        compare([a0], by="seed")


def test_run_labels_and_type_errors():
    a0 = synthetic_run(np.ones((1, 2)), "a", 0)
    a1 = synthetic_run(np.ones((1, 2)), "a", 1)
    assert run_labels([a0, a1]) == ["a (seed 0)", "a (seed 1)"]
    with pytest.raises(TypeError, match="load_run"):
        summary(["not a run"])
