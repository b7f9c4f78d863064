"""Bracket taxes against hand-computed values: the 2018 US schedule, periods, per-world rates and
the Saez schedule that learns from observed incomes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld
from coopsim.schema import ConfigError, build
from mechanisms import Pipeline, RoundContext
from mechanisms.brackets import bracket_tax, marginal_rates
from mechanisms.redistribution import LumpSum, LumpSumParams
from mechanisms.saez import SaezSchedule, saez_rates
from mechanisms.tax import US_FEDERAL_2018_RATES, BracketTax, TaxParams

CPU = torch.device("cpu")


def tax_of(incomes, brackets, rates) -> list[float]:
    income = torch.tensor([incomes], dtype=torch.float32)
    out = bracket_tax(income, torch.tensor(brackets), torch.tensor([rates]))
    return out[0].tolist()


def ctx(income, round_: int = 0, rounds: int = 10) -> RoundContext:
    z = torch.as_tensor(income, dtype=torch.float32)
    return RoundContext(gross=z, income=z, round=round_, rounds=rounds)


def test_bracket_tax_hand_computed():
    # brackets 0 | 10 | 30, rates 0%, 20%, 50%
    got = tax_of([0.0, 5.0, 10.0, 20.0, 30.0, 44.0], [0.0, 10.0, 30.0], [0.0, 0.2, 0.5])
    assert got == pytest.approx([0.0, 0.0, 0.0, 2.0, 4.0, 4.0 + 7.0])
    # a flat tax is proportional
    assert tax_of([0.0, 7.0, 100.0], [0.0], [0.25]) == pytest.approx([0.0, 1.75, 25.0])


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


# -- the Saez schedule -----------------------------------------------------------------------
US_COIN = [0.0, 9.525, 38.7, 82.5, 157.5, 200.0, 500.0]


def test_saez_rates_hand_computed():
    # Incomes 100, 150, 200, 300: inverse-income weights 1/z normalised to mean 1 are
    # 1.6, 16/15, 0.8, 8/15 (their mean, 1/160, is 1/4 of 1/100 + 1/150 + 1/200 + 1/300).
    income = torch.tensor([100.0, 150.0, 200.0, 300.0])
    e = 0.5
    got = saez_rates(income, torch.tensor(US_COIN), e).tolist()
    # Up to 82.5 everybody is above the cutoff: G = 1 (the mean weight), so the rate is 0.
    assert got[:4] == pytest.approx([0.0] * 4, abs=1e-6)
    # At 157.5: 200 and 300 above, G = (0.8 + 8/15) / 2 = 2/3, mean above 250.
    a = 250 / (250 - 157.5)
    assert got[4] == pytest.approx((1 / 3) / (1 / 3 + a * e), rel=1e-5)
    # At 200: only 300 is above (strictly), G = 8/15, a = 300 / 100.
    tau = (7 / 15) / (7 / 15 + 3 * e)
    assert got[5] == pytest.approx(tau, rel=1e-5)
    # Nobody earns above 500: the bracket keeps the rate below it.
    assert got[6] == pytest.approx(tau, rel=1e-5)
    # No elasticity, no reason to spare anyone above 157.5: confiscatory rates there.
    assert saez_rates(income, torch.tensor(US_COIN), 0.0).tolist()[4:] == pytest.approx([1.0] * 3)
    # Nobody earning: nothing to go on, zero rates.
    assert saez_rates(torch.zeros(4), torch.tensor(US_COIN), e).tolist() == [0.0] * 7


def test_marginal_rates():
    rates = torch.tensor([[0.1, 0.2, 0.3]])
    income = torch.tensor([[0.0, 9.9, 10.0, 25.0, 1e6]])
    got = marginal_rates(income, torch.tensor([0.0, 10.0, 20.0]), rates)
    assert got[0].tolist() == pytest.approx([0.1, 0.1, 0.2, 0.3, 0.3])


def saez_schedule(**kw) -> SaezSchedule:
    params = build(
        TaxParams,
        {"schedule": "saez", "brackets": [0.0, 100.0], "elasticity_smoothing": 0.0, **kw},
    )
    return SaezSchedule(params, 2, torch.tensor(params.brackets), CPU)


def test_saez_elasticity_within_agents_at_typical_income():
    # Agent 0 earns in the bottom bracket, agent 1 in the top one; each responds to the rate of
    # its own bracket with elasticity 0.4: z = z0 * (1 - tau)^0.4. The skilled agent earns more
    # *and* pays higher rates, so across agents income seems to rise with the tax.
    true_e = 0.4
    saez = saez_schedule()
    z0 = torch.tensor([50.0, 400.0])
    schedules = [(0.0, 0.3), (0.2, 0.5), (0.4, 0.1), (0.1, 0.6)]
    x, y = [], []
    for low, high in schedules:
        tau = torch.tensor([low, high])
        income = z0 * (1 - tau) ** true_e
        saez.observe(income[None], torch.tensor([[low, high]]))
        x += torch.log(1 - tau).tolist()
        y += torch.log(income).tolist()
    assert saez.estimate_elasticity() == pytest.approx(true_e, rel=1e-4)
    pooled = np.polyfit(x, y, 1)[0]  # pooled OLS across agents gets the sign wrong
    assert pooled < 0


def test_saez_elasticity_counts_agents_who_stop_working():
    # Untaxed the agents earn 100; taxed at 50% they stop (counted as one coin of income):
    # slope = (log 100 - log 1) / (log 1 - log 0.5).
    saez = saez_schedule()
    saez.observe(torch.tensor([[100.0, 100.0]]), torch.tensor([[0.0, 0.0]]))
    saez.observe(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.5, 0.5]]))
    assert saez.estimate_elasticity() == pytest.approx(math.log(100) / math.log(2), rel=1e-5)


def test_saez_elasticity_keeps_the_prior_without_variation_and_smooths():
    saez = saez_schedule(elasticity=0.7)
    saez.observe(torch.tensor([[50.0, 300.0]]), torch.tensor([[0.2, 0.4]]))
    saez.observe(torch.tensor([[40.0, 200.0]]), torch.tensor([[0.2, 0.4]]))
    assert saez.estimate_elasticity() == 0.7  # rates never moved: no regression
    smooth = saez_schedule(elasticity=0.7, elasticity_smoothing=0.9)
    smooth.observe(torch.tensor([[100.0, 100.0]]), torch.tensor([[0.0, 0.0]]))
    smooth.observe(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.5, 0.5]]))
    slope = math.log(100) / math.log(2)
    assert smooth.estimate_elasticity() == pytest.approx(0.9 * 0.7 + 0.1 * slope, rel=1e-5)


def test_saez_memory_is_a_ring_of_the_latest_incomes():
    saez = saez_schedule(memory=3)
    saez.observe(torch.tensor([[1.0, 2.0]]), torch.zeros(1, 2))
    saez.observe(torch.tensor([[3.0, 4.0]]), torch.zeros(1, 2))
    assert saez.size == 3
    assert sorted(saez.income.tolist()) == [2.0, 3.0, 4.0]
    assert sorted(saez.seat.tolist()) == [0, 1, 1]


def test_saez_tax_learns_across_episodes_and_carries_over():
    params = build(
        TaxParams,
        {"schedule": "saez", "brackets": [0.0, 157500.0, 200000.0], "scale": 0.001},
    )
    assert params.rates == [0.0, 0.0, 0.0]  # before any income is seen
    tax = BracketTax(params, 4, 2, CPU)
    income = torch.tensor([[100.0, 150.0, 200.0, 300.0]] * 2)
    flow = tax.apply(ctx(income, round_=0, rounds=1))
    assert flow.transfer.abs().max().item() == 0.0  # taxed at the rates in force: zero
    want = saez_rates(income[0], tax.cutoffs, 0.5)  # the prior elasticity: no variation yet
    assert torch.allclose(tax.rates, want.expand(2, -1))
    tax.reset()  # a new episode keeps what was learned
    assert torch.allclose(tax.rates, want.expand(2, -1)) and tax.saez.size == 8
    # a fresh world (evaluation, another batch size) takes over the state
    fresh = BracketTax(params, 4, 5, CPU)
    fresh.adopt(tax)
    assert torch.allclose(fresh.rates, want.expand(5, -1)) and fresh.saez.size == 8
    fresh.saez.income.zero_()
    assert tax.saez.income.abs().sum() > 0  # a copy, not shared
    assert "Saez" in tax.describe()


def test_saez_state_survives_a_checkpoint():
    params = build(TaxParams, {"schedule": "saez", "brackets": [0.0, 150.0]})
    tax = BracketTax(params, 2, 3, CPU)
    for r, income in enumerate(([[100.0, 300.0]] * 3, [[90.0, 250.0]] * 3)):
        tax.apply(ctx(income, round_=r, rounds=2))
    state = tax.state_dict()
    again = BracketTax(params, 2, 3, CPU)
    again.load_state_dict(state)
    assert torch.equal(again.rates, tax.rates) and again.saez.size == tax.saez.size == 12
    assert again.saez.elasticity == tax.saez.elasticity
    more = [[80.0, 200.0]] * 3
    assert torch.equal(again.apply(ctx(more)).transfer, tax.apply(ctx(more)).transfer)
    assert torch.equal(again.rates, tax.rates)  # the same data, the same next schedule


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
