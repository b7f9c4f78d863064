"""The Saez schedule against hand-computed rates: the elasticity it estimates from observed
incomes, its memory, and what it carries across episodes and checkpoints."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from coopsim.schema import build
from mechanisms import RoundContext
from mechanisms.saez import SaezSchedule, saez_rates
from mechanisms.tax import BracketTax, TaxParams

CPU = torch.device("cpu")


def ctx(income, round_: int = 0, rounds: int = 10) -> RoundContext:
    z = torch.as_tensor(income, dtype=torch.float32)
    return RoundContext(gross=z, income=z, round=round_, rounds=rounds)


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
