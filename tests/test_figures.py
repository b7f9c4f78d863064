"""Figures: titled, labelled, with legends, drawing the right data, and empty states."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from coopsim import figures, scenario
from coopsim.analysis import lorenz
from coopsim.record import RunData, load_run
from coopsim.runner import run_scenario


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, RunData]:
    out = tmp_path_factory.mktemp("runs")
    names = ("public_goods", "public_goods_tax", "public_goods_matching")
    return {n: load_run(run_scenario(scenario.load(n), out=out, episodes=4)) for n in names}


def _axes_with_data(fig: Figure):
    return [
        ax for ax in fig.axes if ax.get_visible() and (ax.lines or ax.patches or ax.collections)
    ]


def assert_well_labelled(fig: Figure) -> None:
    axes = _axes_with_data(fig)
    assert axes, "figure draws nothing"
    for ax in axes:
        assert ax.get_title() or fig._suptitle is not None
        assert ax.get_xlabel() and ax.get_ylabel()
    # a key wherever an axes draws more than one series; one line under a title is named by it
    several = [ax for ax in axes if len(ax.lines) + len(ax.patches) + len(ax.collections) > 1]
    legends = [*fig.legends, *(lg for sub in fig.subfigs for lg in sub.legends)]
    if several:
        assert any(ax.get_legend() is not None for ax in axes) or legends


def test_every_figure_is_labelled(runs):
    tax = runs["public_goods_tax"]
    trained = RunData(
        tax.path, tax.summary, tax.scenario, tax.episodes,
        training_log=pd.DataFrame({"iteration": range(5), "productivity": np.arange(5.0)}),
    )  # fmt: skip
    all_runs = list(runs.values())
    for fig in (
        figures.lorenz_curves(all_runs),
        figures.wealth_over_time(tax),
        figures.contributions_per_round(all_runs),
        figures.mechanism_parameters(tax),
        figures.equality_vs_productivity(all_runs),
        figures.metrics_over_training(trained),
        figures.agent_outcomes(all_runs),
        figures.compare_metrics(all_runs),
    ):
        assert isinstance(fig, Figure)
        assert_well_labelled(fig)


def test_lorenz_lines_are_the_table(runs):
    run = runs["public_goods_tax"]
    fig = figures.lorenz_curves(run)
    line = [ln for ln in fig.axes[0].lines if ln.get_label().startswith("public_goods_tax")][0]
    np.testing.assert_allclose(line.get_ydata(), lorenz(run)["wealth_share"])
    assert "Gini 0.144" in line.get_label()


def test_tax_schedule_drawn_from_config(runs):
    fig = figures.mechanism_parameters(runs["public_goods_tax"])
    schedule = fig.axes[0]
    assert schedule.get_ylabel() == "marginal tax rate (%)"
    configured = [ln for ln in schedule.lines if ln.get_label() == "configured"][0]
    np.testing.assert_allclose(configured.get_ydata(), [0, 20, 50, 50])
    revenue = fig.axes[1]
    collected = [ln for ln in revenue.lines if ln.get_label() == "tax: collected"][0]
    np.testing.assert_allclose(collected.get_ydata(), 10.0)


def test_wealth_over_time_ends_at_final_wealth(runs):
    fig = figures.wealth_over_time(runs["public_goods_tax"])
    finals = sorted(ln.get_ydata()[-1] for ln in fig.axes[0].lines)
    np.testing.assert_allclose(finals, [185, 185, 335, 335])


def test_empty_states(runs):
    plain = runs["public_goods"]
    for fig, words in (
        (figures.metrics_over_training(plain), "No training log"),
        (figures.mechanism_parameters(plain), "no mechanism"),
        (figures.lorenz_curves([]), "No runs"),
    ):
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert any(words in t for t in texts), texts
        assert fig.axes[0].get_title()


def test_equality_vs_productivity_error_bars_are_the_ci(runs):
    run = runs["public_goods_matching"]
    fig = figures.equality_vs_productivity(run)
    ax = fig.axes[0]
    point = ax.lines[0]
    m = run.summary["metrics"]
    assert point.get_xdata()[0] == pytest.approx(m["productivity"]["mean"])
    assert point.get_ydata()[0] == pytest.approx(m["equality"]["mean"])


def test_specialisation_bars_are_the_table():
    from coopsim.analysis.economy import labour_weights, specialisation
    from coopsim.evaluate import evaluate

    scen = scenario.from_dict({
        "name": "economy_scripted",
        "world": {"kind": "economy", "episode_length": 60, "view_radius": 4,
                  "order_duration": 1000, "gather_labour": 2.0},
        "population": [
            {"policy": "gather_build", "count": 2},
            {"policy": "gather_build", "count": 2,
             "params": {"sell_surplus": True, "keep": 0, "ask_price": 9}},
        ],
        "evaluation": {"episodes": 3},
    })  # fmt: skip
    episodes = evaluate(scen).episodes
    run = RunData(Path("economy_scripted-s0"), {"scenario": "economy_scripted"},
                  scen.to_dict(), episodes)  # fmt: skip
    weights = labour_weights(scen.world)
    assert weights["gathering"] == 2.0  # the run's own labour costs, not the defaults
    table = specialisation(episodes, weights)
    for fig, by in ((figures.specialisation(run), "labour"),
                    (figures.specialisation(episodes, by="actions", labour=weights), "action")):  # fmt: skip
        assert_well_labelled(fig)
        left, right = fig.axes
        n = len(table)
        first = [p.get_height() for p in left.patches[:n]]  # the first stack: moving
        assert first == pytest.approx(table[f"{by}_share_moving"].tolist())
        tops = np.sum([[p.get_height() for p in left.patches[k * n : (k + 1) * n]]
                       for k in range(4)], axis=0)  # fmt: skip
        assert tops == pytest.approx(np.where(tops > 0, 1.0, 0.0))
        built = [p.get_height() for p in right.patches[:n]]
        assert built == pytest.approx(table["income_building"].tolist())
        assert "skill" in left.get_xticklabels()[0].get_text()
    empty = figures.specialisation(pd.DataFrame({"episode": [0], "agent": [0]}))
    assert any("No economy rollouts" in t.get_text() for ax in empty.axes for t in ax.texts)
    with pytest.raises(ValueError, match="by"):
        figures.specialisation(episodes, by="coins")


def test_measures_are_labelled_from_the_registry(runs):
    from coopsim.measures import MEASURES

    assert set(figures.HEADLINE_MEASURES) <= set(MEASURES)
    fig = figures.compare_metrics(list(runs.values()), ["gini", "productivity"])
    gini, productivity = _axes_with_data(fig)
    assert gini.get_ylabel() == "Gini: index (0-1)"
    assert gini.get_title() == "Gini (lower is better)"
    assert productivity.get_ylabel() == "productivity: coins per episode"
    assert productivity.get_title() == "productivity"
    assert "Student-t" in fig._suptitle.get_text()
    scatter = _axes_with_data(figures.equality_vs_productivity(list(runs.values())))[0]
    assert scatter.get_xlabel() == f"productivity: {MEASURES['productivity'].unit}"
    assert scatter.get_ylabel() == f"equality: {MEASURES['equality'].unit}"


def test_training_panels_are_the_logs_measures_and_returns(runs):
    tax = runs["public_goods_tax"]
    log = pd.DataFrame(
        {
            "iteration": range(3),
            "agents_return": [1.0, 2.0, 3.0],
            "agents_policy_loss": 0.1,
            "contribution_rate": [0.2, 0.4, 0.6],
            "seconds": 0.5,
        }
    )
    trained = RunData(tax.path, tax.summary, tax.scenario, tax.episodes, training_log=log)
    axes = _axes_with_data(figures.metrics_over_training(trained))
    assert [ax.get_title() for ax in axes] == ["contribution rate", "agents return"]
    assert axes[0].get_ylabel() == "contribution rate: share of endowment (0-1)"
    assert {ax.get_xlabel() for ax in axes} == {"training iteration"}
    trained.training_log = log.rename(columns={"iteration": "step"})
    with pytest.raises(ValueError, match="training_log.parquet: no 'iteration' column"):
        figures.metrics_over_training(trained)


def test_bands_over_rounds_are_t_intervals_over_episodes():
    from scipy import stats

    # 3 episodes x 2 rounds x 1 agent: contributions (and so wealth) differ between episodes
    given = np.array([[2.0, 4.0], [6.0, 4.0], [10.0, 7.0]])  # [E, R]
    episodes = pd.DataFrame(
        {
            "episode": np.repeat(np.arange(3), 2),
            "round": np.tile(np.arange(2), 3),
            "agent": 0,
            "contribution": given.reshape(-1),
            "net": given.reshape(-1),
        }
    )
    run = RunData(Path("r"), {"scenario": "s", "seed": 0}, {}, episodes)
    half = stats.t.ppf(0.975, 2) * given[:, 0].std(ddof=1) / np.sqrt(3)  # round 1: 6 -+ 9.94
    wealth_half = stats.t.ppf(0.975, 2) * given.cumsum(1)[:, 1].std(ddof=1) / np.sqrt(3)
    for fig, x, mean, h, floor in (
        # nobody contributes less than nothing: the band is cut at 0 (coopsim.intervals)
        (figures.contributions_per_round(run), 1, 6.0, half, 0.0),
        (figures.wealth_over_time(run), 2, given.cumsum(1)[:, 1].mean(), wealth_half, None),
    ):
        band = fig.axes[0].collections[0].get_paths()[0].vertices
        at_x = band[np.isclose(band[:, 0], x), 1]
        low = mean - h if floor is None else max(floor, mean - h)
        assert (at_x.min(), at_x.max()) == pytest.approx((low, mean + h))
