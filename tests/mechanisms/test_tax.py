"""Bracket taxes against hand-computed values: the 2018 US schedule, periods, per-world rates
(the bracket arithmetic itself: tests/mechanisms/test_brackets.py; the Saez schedule:
tests/mechanisms/test_saez.py)."""

from __future__ import annotations

import pytest
import torch

from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld
from coopsim.schema import ConfigError, build
from mechanisms import Pipeline, RoundContext
from mechanisms.redistribution import LumpSum, LumpSumParams
from mechanisms.tax import US_FEDERAL_2018_RATES, BracketTax, TaxParams

CPU = torch.device("cpu")


def ctx(income, round_: int = 0, rounds: int = 10) -> RoundContext:
    z = torch.as_tensor(income, dtype=torch.float32)
    return RoundContext(gross=z, income=z, round=round_, rounds=rounds)


@pytest.mark.parametrize(
    ("dollars", "tax_dollars"),
    [
        (5_000, 500.0),  # 10% of 5,000
        (20_000, 952.5 + 0.12 * 10_475),  # = 2,209.50
        (50_000, 952.5 + 3_501.0 + 0.22 * 11_300),  # = 6,939.50
        (100_000, 18_289.5),  # the IRS table's value for $100,000
        (180_000, 952.5 + 3_501 + 9_636 + 18_000 + 0.32 * 22_500),
        (600_000, 952.5 + 3_501 + 9_636 + 18_000 + 13_600 + 105_000 + 37_000),
    ],
)
def test_us_federal_2018_scaled_by_one_thousandth(dollars, tax_dollars):
    params = build(TaxParams, {"schedule": "us_federal_2018", "scale": 0.001}, prefix="m")
    mech = BracketTax(params, 1, 1, CPU)
    assert mech.cutoffs.tolist() == pytest.approx(
        [0.0, 9.525, 38.7, 82.5, 157.5, 200.0, 500.0], rel=1e-6
    )
    flow = mech.apply(ctx([[dollars / 1000]]))
    assert -flow.transfer.item() == pytest.approx(tax_dollars / 1000, rel=1e-5)
    assert flow.pool.item() == pytest.approx(tax_dollars / 1000, rel=1e-5)
    assert flow.external.item() == 0.0


def test_tax_period_sums_income_over_rounds():
    # brackets 0 | 50 with rates 0%, 50%: per-round income 20 would never be taxed, but summed
    # over a period of 3 rounds 60 is taxed 5. Rounds 10: periods end after rounds 3, 6, 9 and
    # the last, truncated period (round 10) is collected too.
    params = TaxParams(brackets=[0.0, 50.0], rates=[0.0, 0.5], period=3)
    mech = BracketTax(params, 2, 1, CPU)
    collected = []
    for r in range(10):
        flow = mech.apply(ctx([[20.0, 30.0]], round_=r, rounds=10))
        collected.append(flow.transfer[0].tolist())
    for r, got in enumerate(collected):
        if r in (2, 5, 8):
            assert got == pytest.approx([-5.0, -20.0])  # (60-50)/2, (90-50)/2
        elif r == 9:
            assert got == pytest.approx([0.0, 0.0])  # one round of income: under 50
        else:
            assert got == [0.0, 0.0]
    # negative income is not taxed and does not offset the period's earnings
    mech.reset()
    mech.apply(ctx([[-100.0, 0.0]], round_=0, rounds=10))
    mech.apply(ctx([[60.0, 0.0]], round_=1, rounds=10))
    flow = mech.apply(ctx([[60.0, 0.0]], round_=2, rounds=10))
    assert flow.transfer[0].tolist() == pytest.approx([-35.0, 0.0])


def test_reset_forgets_the_period_income():
    mech = BracketTax(TaxParams(brackets=[0.0], rates=[0.5], period=2), 1, 1, CPU)
    mech.apply(ctx([[10.0]], round_=0))
    mech.reset()
    mech.apply(ctx([[4.0]], round_=0))
    assert mech.apply(ctx([[6.0]], round_=1)).transfer.item() == pytest.approx(-5.0)


def test_per_world_rates_via_set_rates():
    params = TaxParams(brackets=[0.0, 10.0], rates=[0.1, 0.1])
    mech = BracketTax(params, 2, 3, CPU)
    assert mech.rates.shape == (3, 2)
    mech.set_rates(torch.tensor([[0.0, 0.5], [0.2, 0.2], [1.0, 0.0]]))
    flow = mech.apply(ctx([[20.0, 5.0]] * 3))
    assert torch.allclose(
        flow.transfer, -torch.tensor([[5.0, 0.0], [4.0, 1.0], [10.0, 5.0]]), atol=1e-6
    )
    assert torch.allclose(flow.pool, torch.tensor([5.0, 5.0, 15.0]))
    # agents see their own world's rates
    obs = mech.observation()
    assert obs.shape == (3, 2, 2 + 2)  # rates, then each agent's marginal rate and income
    assert torch.equal(obs[2, 1], torch.tensor([1.0, 0.0, 1.0, 0.0]))
    periodic = BracketTax(TaxParams(brackets=[0.0, 10.0], rates=[0.1, 0.1], period=2), 2, 3, CPU)
    periodic.set_rates(mech.rates)
    periodic.apply(ctx([[15.0, 4.0]] * 3, round_=0))  # round 1 of a 2-round period
    obs = periodic.observation()
    assert torch.allclose(obs[2, 0], torch.tensor([1.0, 0.0, 0.0, 0.15]))  # above 10: rate 0
    assert torch.allclose(obs[2, 1], torch.tensor([1.0, 0.0, 1.0, 0.04]))  # below 10: rate 1
    # a [K] schedule is installed in every world
    mech.set_rates(torch.tensor([0.3, 0.6]))
    assert torch.allclose(mech.rates, torch.tensor([[0.3, 0.6]] * 3))


def test_tax_and_rebate_in_the_world():
    """'public_goods_tax' by hand: 0 | 20 | 30 at 0, 20%, 50%, rebated equally."""
    tax = BracketTax(TaxParams(brackets=[0.0, 20.0, 30.0], rates=[0.0, 0.2, 0.5]), 4, 1, CPU)
    rebate = LumpSum(LumpSumParams(), 4, 1, CPU)
    world = PublicGoodsWorld(PublicGoodsConfig(), Pipeline([tax, rebate]), batch_size=1)
    world.reset(seed=0)
    step = world.step(torch.tensor([[20, 20, 0, 0]])[..., None])
    # gross: 16, 16, 36, 36; tax 0, 0, 2 + 3, 2 + 3 -> revenue 10, 2.5 back each
    assert step.info["gross"][0].tolist() == pytest.approx([16, 16, 36, 36])
    assert step.info["transfer_tax"][0].tolist() == pytest.approx([0, 0, -5, -5])
    assert step.reward[0].tolist() == pytest.approx([18.5, 18.5, 33.5, 33.5])


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"brackets": [0.0, 10.0], "rates": [0.1]}, "m"),
        ({"brackets": [5.0], "rates": [0.1]}, "m"),
        ({"brackets": [0.0, 10.0, 10.0], "rates": [0.1, 0.2, 0.3]}, "m"),
        ({"schedule": "flat", "rates": [0.1, 0.2]}, "m"),
        ({"rates": [1.5]}, "m.rates"),
        ({"period": 0}, "m.period"),
        ({"schedule": "swedish"}, "m.schedule"),
        ({"income": "gross"}, "m.income"),
        ({"cap": "wealth"}, "m.cap"),
    ],
)
def test_bad_tax_params(data, field):
    with pytest.raises(ConfigError) as err:
        build(TaxParams, data, source="f.toml", prefix="m")
    assert err.value.field == field
    assert err.value.source == "f.toml"


def test_flat_schedule_has_one_bracket():
    params = build(TaxParams, {"schedule": "flat", "rates": [0.3]})
    assert params.brackets == [0.0]
    mech = BracketTax(params, 2, 1, CPU)
    assert mech.apply(ctx([[10.0, 100.0]])).transfer[0].tolist() == pytest.approx([-3.0, -30.0])


def test_net_coin_income_deducts_purchases_and_the_cap_keeps_tax_within_liquid_coin():
    """The reference's collection (redistribution.py:871-876, 899-903) worked by hand over a
    two-round period at a flat 50%: agent 0 earns 22 from a house and pays 6 for wood (net
    16), agent 1 sells that wood for 6 and buys stone for 8 (net -2), agent 2 earns 10 but
    holds only 3 liquid coin at collection (the rest escrowed in bids)."""
    params = build(TaxParams, {"schedule": "flat", "rates": [0.5], "period": 2})
    params.income, params.cap = "net_coin", "liquid"
    tax = BracketTax(params, 3, 1, CPU)
    gross = [torch.tensor([[22.0, 6.0, 10.0]]), torch.tensor([[-6.0, -8.0, 0.0]])]
    earned = [torch.tensor([[22.0, 6.0, 10.0]]), torch.zeros(1, 3)]
    liquid = torch.tensor([[40.0, 1.0, 3.0]])
    flows = []
    for t in range(2):
        c = RoundContext(gross=gross[t], income=earned[t], round=t, rounds=10, liquid=liquid)
        flows.append(tax.apply(c))
    assert flows[0].transfer.abs().sum() == 0  # mid-period: nothing collected
    assert flows[1].transfer[0].tolist() == [-8.0, 0.0, -3.0]  # 50% of 16, nothing, capped
    assert flows[1].pool.tolist() == [11.0]
    # the default: coin earned, no cap
    plain = BracketTax(
        build(TaxParams, {"schedule": "flat", "rates": [0.5], "period": 2}), 3, 1, CPU
    )
    for t in range(2):
        out = plain.apply(RoundContext(gross=gross[t], income=earned[t], round=t, rounds=10))
    assert out.transfer[0].tolist() == [-11.0, -3.0, -5.0]


def test_a_liquid_cap_without_holdings_is_refused_with_its_name():
    params = build(TaxParams, {"schedule": "flat", "rates": [0.5], "cap": "liquid"})
    with pytest.raises(ValueError, match="cap = 'liquid' needs a world that reports"):
        BracketTax(params, 2, 1, CPU).apply(ctx([[1.0, 2.0]]))


def test_net_coin_income_may_be_negative_in_the_observation_bounds():
    from mechanisms.base import MoneyBounds

    bounds = MoneyBounds(gross=30.0, income=20.0, rounds=1000, num_agents=4)
    earned = BracketTax(build(TaxParams, {"period": 100}), 4, 1, CPU)
    net = BracketTax(build(TaxParams, {"period": 100, "income": "net_coin"}), 4, 1, CPU)
    assert earned.observation_bounds(bounds)[0][-1] == 0.0
    assert earned.observation_bounds(bounds)[1][-1] == 100 * 20.0 / 100
    assert net.observation_bounds(bounds)[0][-1] == -100 * 30.0 / 100
    assert net.transfer_bound(bounds) == 100 * 30.0


def test_annealed_cap_rises_with_ended_episodes_as_the_reference_caps_every_tax_model():
    # US 2018 with the cap rising from 10% to 100% over 4 episodes of 2 rounds each. The
    # reference's curr_marginal_rates are min(schedule, cap): 10,12,22% at 10% -> all 10%.
    params = build(
        TaxParams,
        {"schedule": "us_federal_2018", "scale": 0.001, "anneal_episodes": 4, "anneal_from": 0.1},
        prefix="m",
    )
    mech = BracketTax(params, 1, 1, CPU)
    assert mech.max_rate == pytest.approx(0.1)
    assert mech.rates[0].tolist() == pytest.approx([0.1] * 7)
    # an income of 50 (50,000 dollars) pays 10% of it while the cap is 10%
    flow = mech.apply(ctx([[50.0]], round_=1, rounds=2))  # the period and the episode end
    assert -flow.transfer.item() == pytest.approx(5.0)
    assert mech.episodes == 1
    mech.reset()  # a new episode: cap 0.1 + 1/4 x 0.9 = 0.325
    assert mech.max_rate == pytest.approx(0.325)
    assert mech.rates[0].tolist() == pytest.approx([0.1, 0.12, 0.22, 0.24, 0.32, 0.325, 0.325])
    for _ in range(3):
        mech.apply(ctx([[0.0]], round_=1, rounds=2))
    mech.reset()
    assert mech.max_rate == pytest.approx(1.0)
    assert mech.rates[0].tolist() == pytest.approx(list(US_FEDERAL_2018_RATES))
    # the count and the uncut schedule survive a checkpoint and carry into an evaluation world
    other = BracketTax(params, 1, 3, CPU)
    other.load_state_dict(mech.state_dict())
    assert other.episodes == 4
    assert other.rates[1].tolist() == pytest.approx(list(US_FEDERAL_2018_RATES))
    fresh = BracketTax(params, 1, 2, CPU)
    fresh.adopt(mech)
    assert fresh.rates.flatten().tolist() == pytest.approx(list(US_FEDERAL_2018_RATES) * 2)


def test_annealed_cap_cuts_the_saez_schedule_and_what_it_learns_from():
    # The reference clips Saez's rates to [rate_min, curr_rate_max] and records the rate in
    # force in its buffer: here the capped 10%, not the formula's rates.
    params = build(
        TaxParams,
        {"schedule": "saez", "brackets": [0.0, 10.0], "anneal_episodes": 10, "memory": 8},
        prefix="m",
    )
    mech = BracketTax(params, 2, 1, CPU)
    mech.apply(ctx([[1.0, 40.0]], round_=0, rounds=10))  # a period of 1 round ends
    assert float(mech.saez.schedule.max()) > 0.1  # the formula asks for more
    assert float(mech.rates.max()) == pytest.approx(0.1)
    mech.apply(ctx([[1.0, 40.0]], round_=1, rounds=10))
    assert mech.saez.rates[2:4].max().item() == pytest.approx(0.1)  # observed under the cap


def test_no_annealing_by_default_leaves_rates_alone():
    params = build(TaxParams, {"schedule": "us_federal_2018", "scale": 0.001}, prefix="m")
    mech = BracketTax(params, 1, 1, CPU)
    assert mech.max_rate == 1.0
    assert mech.rates[0].tolist() == pytest.approx(list(US_FEDERAL_2018_RATES))
