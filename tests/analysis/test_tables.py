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
    compare,
    format_compare,
    lorenz,
    mechanism_flows,
    run_labels,
    summary,
    tax_schedules,
    training_curves,
    training_log,
    zero_width_notes,
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
    """Peer punishment, evaluated over 40 episodes."""
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


def t_by_hand(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval, computed here from scipy alone."""
    values = np.asarray(values, dtype=float)
    n = values.size
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return values.mean(), values.mean() - half, values.mean() + half


def test_summary_is_a_t_interval_over_episodes(noisy_run):
    table = summary(noisy_run)
    assert list(table.columns[4:]) == ["metric", "mean", "ci_low", "ci_high", "std", "n"]
    for row in table.itertuples():
        stored = noisy_run.summary["metrics"][row.metric]
        mean, lo, hi = t_by_hand(noisy_run.episode_metrics[row.metric])
        assert (row.mean, row.ci_low, row.ci_high) == pytest.approx((mean, lo, hi))
        # the same policy evaluation used for summary.json
        assert (row.ci_low, row.ci_high) == pytest.approx((stored["ci_low"], stored["ci_high"]))
        assert row.n == 40
    gini = [0.1, 0.3, 0.2, 0.6]
    varied = synthetic_run(np.ones((4, 2)), episode_metrics=pd.DataFrame({"gini": gini}))
    row = summary(varied).iloc[0]
    # 0.3 -+ t(0.975, 3) * sd / 2 = 0.3 -+ 3.18245 * 0.21602 / 2 = 0.3 -+ 0.343743, and a Gini
    # cannot go below 0: the interval is cut there (coopsim.intervals)
    assert (row.ci_low, row.ci_high) == pytest.approx((0.0, 0.3 + 0.343743), abs=1e-6)
    assert (row["std"], row["n"]) == (pytest.approx(np.std(gini, ddof=1)), 4)
    narrow = summary(varied, level=0.5).iloc[0]  # narrow enough to stay inside [0, 1]
    assert (narrow.ci_low, narrow.ci_high) == pytest.approx(t_by_hand(gini, level=0.5)[1:])
    # Without per-episode metrics the stored interval is used; another level is refused.
    noisy_run_copy = RunData(noisy_run.path, noisy_run.summary, {}, noisy_run.episodes)
    t_table = summary(noisy_run_copy, ["gini"])
    assert t_table["ci_low"].iloc[0] == noisy_run.summary["metrics"]["gini"]["ci_low"]
    with pytest.raises(ValueError, match="no episode_metrics.parquet"):
        summary(noisy_run_copy, ["gini"], level=0.9)


def test_summary_lists_measures_in_registry_order(noisy_run):
    from coopsim.measures import MEASURES

    names = summary(noisy_run)["metric"].tolist()
    assert names == [m for m in MEASURES if m in noisy_run.episode_metrics]
    assert "objective" in names  # a measure every run has, listed nowhere but the registry


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
    # deterministic policies: every episode ends alike, the interval has no width
    np.testing.assert_allclose(table["wealth_ci_low"], table["wealth_ci_high"])


def test_agent_outcomes_interval_is_t_over_episodes():
    wealth = np.array([[1.0, 10.0], [3.0, 10.0], [8.0, 16.0]])  # [E, N]
    table = agent_outcomes(synthetic_run(wealth))
    for agent in (0, 1):
        mean, lo, hi = t_by_hand(wealth[:, agent])
        row = table.iloc[agent]
        assert (row.wealth, row.wealth_ci_low, row.wealth_ci_high) == pytest.approx((mean, lo, hi))
    # agent 0: mean 4, std sqrt(13), t(0.975, 2) = 4.3027: 4 -+ 4.3027 * 3.6056 / 1.7321
    assert table["wealth_ci_high"].iloc[0] == pytest.approx(4 + 4.302653 * np.sqrt(13 / 3))


def test_mechanism_flows_budget_balanced(tax_run):
    flows = mechanism_flows(tax_run)
    per_round = flows.pivot_table(index="round", columns="source", values="net")
    np.testing.assert_allclose(per_round["tax"], -10.0)  # two free riders pay 5 each
    np.testing.assert_allclose(per_round.sum(axis=1), 0.0)  # all rebated
    assert mechanism_flows(synthetic_run(np.ones((1, 2)))).empty


def test_training_curves_with_and_without_log():
    log = pd.DataFrame({"iteration": [0, 10, 20], "equality": [0.2, 0.4, 0.9], "note": "x"})
    run = synthetic_run(np.ones((1, 2)), training_log=log)
    curves = training_curves(run)
    assert curves["metric"].unique().tolist() == ["equality"]  # text columns left out
    assert curves["iteration"].tolist() == [0, 10, 20]
    smooth = training_curves(run, window=3)["value"].to_numpy()
    np.testing.assert_allclose(smooth, [0.2, 0.3, 0.5])
    empty = training_curves(synthetic_run(np.ones((1, 2))))
    assert empty.empty and "value" in empty.columns
    with pytest.raises(ValueError, match="window"):
        training_curves(run, window=0)


def test_a_log_not_written_by_the_trainer_is_refused_by_name():
    log = pd.DataFrame({"epoch": [0, 1], "reward": [0.0, 1.0]})
    run = synthetic_run(np.ones((1, 2)), training_log=log)
    for read in (training_log, training_curves, tax_schedules):
        with pytest.raises(ValueError, match=r"r-s0/training_log.parquet: no 'iteration' column"):
            read(run)
    assert training_log(synthetic_run(np.ones((1, 2)))) is None  # evaluated only: no log


def test_tax_schedules_config_and_learned(tax_run):
    config = tax_schedules(tax_run)
    assert config["cutoff"].tolist() == [0.0, 20.0, 30.0]
    assert config["rate"].tolist() == pytest.approx([0.0, 0.2, 0.5])
    log = pd.DataFrame(
        {"iteration": [0, 5], "rate_0": [0.1, 0.2], "rate_1": [0.3, 0.4], "max_rate": 1.0}
    )
    trained = RunData(tax_run.path, tax_run.summary, tax_run.scenario, tax_run.episodes, log)
    learned = tax_schedules(trained).query("source == 'training'")
    assert learned["iteration"].tolist() == [0, 0, 5, 5]
    assert learned["bracket"].tolist() == [0, 1, 0, 1]
    assert learned["cutoff"].tolist() == [0.0, 20.0, 0.0, 20.0]
    assert learned["rate"].tolist() == pytest.approx([0.1, 0.3, 0.2, 0.4])
    # Only the trainer's spelling is a rate; a log that skips a bracket is refused.
    other = log.rename(columns={"rate_0": "tax_rate_0", "rate_1": "tax_rate_1"})
    trained.training_log = other
    assert tax_schedules(trained).query("source == 'training'").empty
    trained.training_log = log.rename(columns={"rate_1": "rate_2"})
    with pytest.raises(ValueError, match="training_log.parquet: bracket rates rate_0, rate_2"):
        tax_schedules(trained)


def test_training_log_is_read_as_the_trainer_writes_it(tmp_path):
    """A planner run's own training log: iteration and rate_<k> columns, read unchanged."""
    s = scenario.load("tax_one_step_ai_planner")
    s.training.num_worlds = 4
    s.planner.phase1_iterations = 0
    run = load_run(run_scenario(s, out=tmp_path, episodes=2, iterations=2))
    learned = tax_schedules(run).query("source == 'training'")
    brackets = len(tax_schedules(run).query("source == 'config'"))
    assert learned["iteration"].unique().tolist() == [0, 1]
    assert learned["bracket"].tolist() == list(range(brackets)) * 2
    assert set(training_curves(run)["metric"]) >= {"objective", "max_rate", "rate_0"}


def test_compare_by_run_and_by_scenario():
    a0 = synthetic_run(np.array([[1.0, 3.0]]), "a", 0)
    a1 = synthetic_run(np.array([[2.0, 2.0]]), "a", 1)
    b = synthetic_run(np.array([[1.0, 1.0]]), "b", 0)
    for run, eff in ((a0, [0.4, 0.6]), (a1, [0.8, 0.8]), (b, [1.0, 1.0])):
        run.episode_metrics = pd.DataFrame({"efficiency": eff})
    by_run = compare([a0, a1, b], ["efficiency"])
    assert by_run["efficiency"].tolist() == pytest.approx([0.5, 0.8, 1.0])
    assert by_run["efficiency_n"].tolist() == [2, 2, 2]  # episodes
    # a0 over its two episodes: 0.5 -+ t(0.975, 1) * 0.1414 / 1.4142 = 0.5 -+ 12.7062 * 0.1
    assert by_run["efficiency_ci_low"].iloc[0] == pytest.approx(0.5 - 1.270620, abs=1e-6)
    assert by_run["efficiency_ci_high"].iloc[0] == pytest.approx(0.5 + 1.270620, abs=1e-6)
    by_scen = compare([a0, a1, b], ["efficiency"], by="scenario")
    assert by_scen["runs"].tolist() == [2, 1]
    assert by_scen["efficiency_n"].tolist() == [2, 1]  # runs, not episodes
    assert by_scen["efficiency"].tolist() == pytest.approx([0.65, 1.0])
    # Over two seeds (means 0.5, 0.8): 0.65 -+ 12.7062 * 0.2121 / 1.4142 = 0.65 -+ 1.90593.
    _, lo, hi = t_by_hand([0.5, 0.8])
    assert by_scen["efficiency_ci_low"].iloc[0] == pytest.approx(lo)
    assert by_scen["efficiency_ci_high"].iloc[0] == pytest.approx(hi)
    assert by_scen["efficiency_ci_low"].iloc[0] == pytest.approx(0.65 - 1.905930, abs=1e-6)
    assert by_scen["efficiency_ci_high"].iloc[0] == pytest.approx(0.65 + 1.905930, abs=1e-6)
    # One seed of b: no spread to measure, and the table says so.
    assert by_scen["efficiency_ci_low"].iloc[1] == by_scen["efficiency_ci_high"].iloc[1] == 1.0
    text = format_compare(by_scen)
    assert text.loc["efficiency", "b"] == "1.000 [1.000, 1.000] *"
    assert not text.loc["efficiency", "a"].endswith("*")
    assert zero_width_notes(by_scen) == ["* one unit only: no spread to measure"]
    text = format_compare(by_run)
    assert text.loc["efficiency", "a-s0"].startswith("0.500 [")
    assert text.loc["efficiency", "b-s0"].endswith(" *")  # two episodes, both 1.0
    assert zero_width_notes(by_run) == [
        "* every unit gave the same value (deterministic policies in identical worlds)"
    ]
    with pytest.raises(ValueError, match="by must be"):
        compare([a0], by="seed")


def test_run_labels_and_type_errors():
    a0 = synthetic_run(np.ones((1, 2)), "a", 0)
    a1 = synthetic_run(np.ones((1, 2)), "a", 1)
    assert run_labels([a0, a1]) == ["a (seed 0)", "a (seed 1)"]
    with pytest.raises(TypeError, match="load_run"):
        summary(["not a run"])
