"""The AI Economist's binned Saez formula, ported: against the reference's own rates."""

from __future__ import annotations

import pytest
import torch

from coopsim.schema import build
from mechanisms.saez import saez_rates, saez_rates_binned
from mechanisms.tax import BracketTax, TaxParams

# The reference's us-federal cutoffs / 1000 (redistribution.py, bracket_spacing "us-federal")
CUTOFFS = torch.tensor([0.0, 9700, 39475, 84200, 160725, 204100, 510300]) / 1000


@pytest.mark.parametrize(
    ("incomes", "elasticity", "reference"),
    [
        # rates the reference's PeriodicBracketTax gives for these buffers (its
        # get_binned_saez_welfare_weight_and_pareto_params, get_saez_marginal_rates and
        # bracketize_schedule, clipped to [0, 1]): nobody above the top cutoff -> 100% there
        (
            [2.0, 8.0, 20.0, 50.0] * 2,
            0.5,
            [0.738742, 0.354505, 0.126502, 0.234364, 0.351794, 0.694734, 1.0],
        ),
        # a negative and a zero income (below the first bin) and one above the top cutoff
        (
            [-3.0, 0.0, 5.0, 15.0, 40.0, 600.0],
            0.2,
            [0.904113, 0.668862, 0.490403, 0.481809, 0.473319, 0.448526, 0.426456],
        ),
    ],
)
def test_binned_rates_are_the_references(incomes, elasticity, reference):
    got = saez_rates_binned(torch.tensor(incomes), CUTOFFS, elasticity)
    assert got.tolist() == pytest.approx(reference, abs=1e-5)


def test_binned_top_rate_by_hand():
    # One income of 1,000 above the top cutoff 510.3 among three zeros: the tail's A = 1000 /
    # (1000 - 510.3). The zeros fall in the first bin [0, 5.103) and weigh as its middle,
    # 1 / 2.5515; G of the tail is its share of the weight over its share of the people.
    z = torch.tensor([0.0, 0.0, 0.0, 1000.0])
    a = 1000 / (1000 - 510.3)
    g = (1 / 1000) / (3 / 2.5515 + 1 / 1000) / (1 / 4)
    assert saez_rates_binned(z, CUTOFFS, 0.5)[-1].item() == pytest.approx(
        (1 - g) / (1 - g + 0.5 * a), abs=1e-5
    )


def test_the_tax_uses_the_formula_it_names():
    def schedule(formula: str) -> list[float]:
        params = build(
            TaxParams,
            {"schedule": "saez", "brackets": (CUTOFFS * 1000).tolist(), "scale": 0.001,
             "saez_formula": formula, "estimate_elasticity": False},
            prefix="m",
        )  # fmt: skip
        mech = BracketTax(params, 4, 1, torch.device("cpu"))
        mech.saez.observe(torch.tensor([[2.0, 8.0, 20.0, 50.0]]), mech.rates)
        return mech.saez.update().tolist()

    z = torch.tensor([2.0, 8.0, 20.0, 50.0])
    assert schedule("binned") == pytest.approx(saez_rates_binned(z, CUTOFFS, 0.5).tolist())
    assert schedule("cutoff") == pytest.approx(saez_rates(z, CUTOFFS, 0.5).tolist())


def test_pooled_elasticity_is_the_references_ols_by_hand():
    # A flat tax alternating 0% and 50%: incomes halve when the net-of-tax rate halves, so
    # log z on log(1 - tau) has slope 1 exactly; a zero income and a 100% period are left out,
    # as the reference leaves out z <= 0 and tau >= 1. Running estimate 0.98 x 0.5 + 0.02 x 1.
    params = build(
        TaxParams,
        {"schedule": "saez", "brackets": [0.0], "elasticity_estimator": "pooled", "memory": 64},
        prefix="m",
    )
    mech = BracketTax(params, 2, 1, torch.device("cpu"))
    for z, rate in [((10.0, 12.0), 0.0), ((5.0, 6.0), 0.5)] * 3 + [((0.0, 7.0), 1.0)]:
        mech.saez.observe(torch.tensor([z]), torch.tensor([[rate]]))
    assert mech.saez.estimate_elasticity() == pytest.approx(0.98 * 0.5 + 0.02 * 1.0, abs=1e-6)
    # fewer than 10 usable incomes: the estimate stays
    few = BracketTax(params, 2, 1, torch.device("cpu"))
    for z, rate in [((10.0, 12.0), 0.0), ((5.0, 6.0), 0.5)]:
        few.saez.observe(torch.tensor([z]), torch.tensor([[rate]]))
    assert few.saez.estimate_elasticity() == 0.5
