"""The registry of measures: complete, described, and computing what evaluation always did."""

from __future__ import annotations

import pytest
import torch

from coopsim import metrics
from coopsim.config.planner import MIXABLE, OBJECTIVES
from coopsim.measures import (
    MEASURES,
    OBJECTIVE_FUNCTIONS,
    Outcome,
    income_cv_by_agent,
    late_income_share_by_agent,
    measure_episodes,
    period_income,
    social_objective,
)


def _outcome(**kw) -> Outcome:
    gen = torch.Generator().manual_seed(0)
    wealth = torch.randn(5, 4, generator=gen, dtype=torch.float64) * 10 + 5  # some negative
    base = {"wealth": wealth, "utility": wealth + 1.0}
    return Outcome(**{**base, **kw})


def test_every_measure_is_described():
    for name, m in MEASURES.items():
        assert m.name == name
        assert m.label and m.reads and m.unit and m.meaning
        assert m.better in ("higher", "lower")
    assert not MEASURES["gini"].higher_is_better
    assert MEASURES["equality"].higher_is_better


def test_measures_that_need_data_apply_only_where_it_is():
    plain = measure_episodes(_outcome())
    assert "contribution_rate" not in plain and "efficiency" not in plain
    contributions = torch.full((3, 5, 4), 5.0, dtype=torch.float64)  # [R, B, N]
    full = measure_episodes(
        _outcome(
            contribution=contributions,
            endowment=20.0,
            social_optimum=100.0,
            records={
                "harvest": torch.ones(3, 5, 4),
                "tagged": torch.zeros(3, 5, 4),
                "stock": torch.ones(3, 5, 4),
                "income": torch.ones(4, 5, 4),  # two tax periods of two rounds
            },
            period=2,
        )
    )
    assert torch.allclose(full["contribution_rate"], torch.full((5,), 0.25, dtype=torch.float64))
    assert set(full) == set(MEASURES)
    for name, m in MEASURES.items():  # what a measure reads, it declares
        if m.needs:
            assert name not in plain, name


def test_hand_computed_values():
    wealth = torch.tensor([[0.0, 0.0, 0.0, 8.0], [2.0, 2.0, 2.0, 2.0]], dtype=torch.float64)
    out = measure_episodes(Outcome(wealth, wealth, social_optimum=16.0))
    assert out["productivity"].tolist() == [8.0, 8.0]
    # One agent holds everything: Gini (N-1)/N = 0.75, equality 1 - 0.75 * 4/3 = 0.
    assert out["gini"].tolist() == pytest.approx([0.75, 0.0])
    assert out["equality"].tolist() == pytest.approx([0.0, 1.0])
    assert out["equality_times_productivity"].tolist() == pytest.approx([0.0, 8.0])
    assert out["rawls_welfare"].tolist() == [0.0, 2.0]
    assert out["efficiency"].tolist() == [0.5, 0.5]
    assert out["objective"].tolist() == pytest.approx([0.0, 8.0])


def test_inequality_reads_wealth_floored_and_welfare_reads_utility():
    wealth = torch.tensor([[-4.0, 4.0]], dtype=torch.float64)
    utility = torch.tensor([[1.0, 3.0]], dtype=torch.float64)
    out = measure_episodes(Outcome(wealth, utility))
    assert out["gini"].item() == pytest.approx(metrics.gini(torch.tensor([[0.0, 4.0]])).item())
    assert out["productivity"].item() == 0.0
    assert out["utilitarian_welfare"].item() == 4.0


@pytest.mark.parametrize("name", MIXABLE)
def test_mix_of_one_objective_is_that_objective(name):
    o = _outcome()
    books = {"contribution": torch.rand_like(o.wealth), "outlay": o.wealth.sum(-1)}
    alone = social_objective(name, o.wealth, o.utility, **books)
    mixed = social_objective("mix", o.wealth, o.utility, {name: 1.0}, **books)
    assert torch.allclose(alone, mixed)


def test_new_objectives_by_hand():
    coin = torch.tensor([[4.0, 2.0, 0.0, 1.0]])
    baseline = torch.tensor([[3.0, 2.0, 1.0, 0.0]])
    # strictly better off: agents 0 and 3 (agent 1 ties): half the vote
    assert social_objective("votes", coin, coin, baseline=baseline).item() == 0.5
    share = torch.tensor([[1.0, 0.5, 0.0, 0.5]])
    assert social_objective("contribution_rate", coin, coin, contribution=share).item() == 0.5
    net = social_objective(
        "net_welfare", coin, coin, {"sponsor_cost": 1.8}, outlay=torch.tensor([2.0])
    )
    assert net.item() == pytest.approx(7.0 - 3.6)
    with pytest.raises(ValueError, match="'votes' needs paired worlds"):
        social_objective("votes", coin, coin)


def test_inequity_averse_votes_by_hand():
    # Democratic AI's endowments 10, 2, 2, 2; everyone gives all (16 coins, pot 25.6) under
    # w 0, v 0.8: the rich seat gets 0.8 x 10/16 + 0.2 / 4 = 0.55 of it (14.08), each poor seat
    # 0.15 (3.84); nobody gives under the strict egalitarian baseline: 10, 2, 2, 2
    coin = torch.tensor([[14.08, 3.84, 3.84, 3.84]])
    baseline = torch.tensor([[10.0, 2.0, 2.0, 2.0]])
    assert social_objective("votes", coin, coin, baseline=baseline).item() == 1.0
    # Fehr-Schmidt: the rich seat (beta 0.6) 14.08 - 0.6 x 30.72 / 3 = 7.94 > 10 - 4.8 = 5.2;
    # a poor seat with alpha 1: 3.84 - 10.24 / 3 = 0.43 > 2 - 8 / 3 = -0.67, votes for it;
    # with alpha 4: 3.84 - 40.96 / 3 = -9.81 < 2 - 32 / 3 = -8.67, votes against the rule
    # that pays it more but widens its gap to the rich seat
    aversion = torch.tensor([[[1.0, 0.6], [1.0, 0.6], [4.0, 0.6], [1.0, 0.6]]])
    votes = social_objective("votes", coin, coin, baseline=baseline, aversion=aversion)
    assert votes.item() == 0.75
    # and backs one that pays it less but narrows the gap: 1.9 - 5.1 / 3 = 0.2 > -0.67
    narrower = torch.tensor([[7.0, 1.9, 1.9, 1.9]])
    assert social_objective("votes", narrower, narrower, baseline=baseline).item() == 0.0
    backed = social_objective("votes", narrower, narrower, baseline=baseline, aversion=aversion)
    # the rich seat: 7 - 0.6 x 15.3 / 3 = 3.94 < 5.2; the poor with alpha 1 for, alpha 4:
    # 1.9 - 4 x 5.1 / 3 = -4.9 > -8.67, for
    assert backed.item() == 0.75
    zero = torch.zeros(1, 4, 2)  # no aversion: the plain vote
    assert social_objective("votes", coin, coin, baseline=baseline, aversion=zero).item() == 1.0
    with pytest.raises(ValueError, match=r"aversion is \[B, N, 2\]"):
        social_objective("votes", coin, coin, baseline=baseline, aversion=torch.zeros(4, 2))


def test_unknown_objective_names_the_allowed_ones():
    with pytest.raises(ValueError, match="allowed: equality_times_productivity"):
        social_objective("happiness", torch.ones(1, 2), torch.ones(1, 2))


def test_every_configurable_objective_has_a_function():
    assert set(OBJECTIVES) - {"mix"} == set(OBJECTIVE_FUNCTIONS)


def test_commons_measures_hand_computed():
    """Perolat et al.'s efficiency, equality, sustainability and peace on two episodes of
    T = 4 steps and N = 2 agents."""
    harvest = torch.zeros(4, 2, 2)  # [T, B, N]
    harvest[0, 0, 0] = harvest[1, 0, 0] = harvest[3, 0, 1] = 1  # episode 0: 2 and 1 apples
    tagged = torch.zeros(4, 2, 2)
    tagged[1:3, 0, 1] = 1  # agent 1 out for 2 of the 8 agent-steps
    stock = torch.tensor([[5.0, 3.0], [4.0, 3.0], [4.0, 2.0], [2.0, 1.0]])  # [T, B]
    wealth = harvest.sum(0).double()
    plain = measure_episodes(Outcome(wealth, wealth))
    assert not {"harvest_per_step", "sustainability", "peace", "final_stock"} & set(plain)
    stock = stock[..., None].expand(-1, -1, 2)  # [T, B, N]: every agent records its world's
    records = {"harvest": harvest, "tagged": tagged, "stock": stock}
    out = measure_episodes(Outcome(wealth, wealth, records=records))
    assert out["harvest_per_step"].tolist() == [0.75, 0.0]  # 3 apples in 4 steps
    # |2 - 1| + |1 - 2| = 2 over 2 N sum R = 2 * 2 * 3: E = 1 - 1/6; nobody took any: 1.
    assert out["harvest_equality"].tolist() == pytest.approx([5 / 6, 1.0])
    # agent 0 harvested at steps 1 and 2 (mean 1.5), agent 1 at step 4: S = (1.5 + 4) / 2.
    assert out["sustainability"].tolist() == [2.75, 0.0]
    assert out["peace"].tolist() == [0.75, 1.0]
    assert out["final_stock"].tolist() == [2.0, 1.0]
    assert out["mean_stock"].tolist() == [3.75, 2.25]


def test_when_income_is_earned_within_tax_periods_by_hand():
    # Two tax periods of 10 rounds, one world, three agents:
    #   agent 0 earns 1 every round: even; late share 2/20 = 0.1, CV 0;
    #   agent 1 earns 9 in the last round of period 1 and 3 in round 0 of period 2:
    #       late share 9/12 = 0.75; period incomes 9 and 3, mean 6, std 3, CV 0.5;
    #   agent 2 earns nothing: left out of the means.
    income = torch.zeros(20, 1, 3, dtype=torch.float64)
    income[:, 0, 0] = 1.0
    income[9, 0, 1] = 9.0
    income[10, 0, 1] = 3.0
    late = late_income_share_by_agent(income, 10)
    assert late[0, :2].tolist() == pytest.approx([0.1, 0.75])
    assert late[0, 2].isnan()
    cv = income_cv_by_agent(income, 10)
    assert cv[0, :2].tolist() == pytest.approx([0.0, 0.5])
    assert period_income(income, 10)[:, 0, 1].tolist() == [9.0, 3.0]
    wealth = torch.zeros(1, 3, dtype=torch.float64)
    out = measure_episodes(Outcome(wealth, wealth, records={"income": income}, period=10))
    assert out["late_income_share"].tolist() == pytest.approx([(0.1 + 0.75) / 2])
    assert out["income_cv_periods"].tolist() == pytest.approx([0.25])
    # A trailing part period is left out; one full period gives no CV; no period, neither.
    cut = measure_episodes(Outcome(wealth, wealth, records={"income": income[:15]}, period=10))
    assert "income_cv_periods" not in cut and "late_income_share" in cut
    assert cut["late_income_share"].tolist() == pytest.approx([(0.1 + 1.0) / 2])
    none = measure_episodes(Outcome(wealth, wealth, records={"income": income}))
    assert "late_income_share" not in none and "income_cv_periods" not in none
    # Nobody earning anything reads 0, not NaN.
    idle = measure_episodes(Outcome(wealth, wealth, records={"income": 0 * income}, period=10))
    assert idle["late_income_share"].tolist() == [0.0]
