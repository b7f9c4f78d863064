"""The lump-sum rebate pays the institution's pool back equally."""

from __future__ import annotations

import pytest
import torch

from mechanisms import RoundContext
from mechanisms.redistribution import LumpSum, LumpSumParams

CPU = torch.device("cpu")


def _ctx(pool: list[float], n: int) -> RoundContext:
    c = RoundContext(
        gross=torch.zeros(len(pool), n), income=torch.zeros(len(pool), n), round=0, rounds=1
    )
    c.pool = torch.tensor(pool)
    return c


@pytest.mark.parametrize(("share", "paid"), [(1.0, [3.0, 0.0, 1.25]), (0.5, [1.5, 0.0, 0.625])])
def test_lump_sum_shares_the_pool_equally(share, paid):
    mech = LumpSum(LumpSumParams(share=share), 4, 3, CPU)
    flow = mech.apply(_ctx([12.0, 0.0, 5.0], 4))
    assert flow.transfer.shape == (3, 4)
    for b in range(3):
        assert flow.transfer[b].tolist() == pytest.approx([paid[b]] * 4)
    assert flow.pool.tolist() == pytest.approx([-4 * p for p in paid])
    assert flow.external.abs().sum() == 0
    assert flow.imbalance().abs().max() < 1e-6


def test_lump_sum_with_empty_pool_moves_nothing():
    flow = LumpSum(LumpSumParams(), 2, 1, CPU).apply(_ctx([0.0], 2))
    assert flow.transfer.abs().sum() == 0
