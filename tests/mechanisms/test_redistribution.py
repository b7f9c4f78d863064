"""The lump-sum rebate pays the institution's pool back equally."""

from __future__ import annotations

import pytest
import torch

from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld
from mechanisms import Pipeline, RoundContext
from mechanisms.redistribution import LumpSum, LumpSumParams
from mechanisms.sanctions import InstitutionParams, SanctionInstitution

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


def test_partial_rebate_keeps_the_rest_for_later_rounds():
    """With share 0.5 the pool is a balance: what is not paid this round is paid later."""
    inst = SanctionInstitution(InstitutionParams(threshold=1.0, fine=1.0), 4, 1, CPU)
    rebate = LumpSum(LumpSumParams(share=0.5), 4, 1, CPU)
    pipeline = Pipeline([inst, rebate])
    world = PublicGoodsWorld(PublicGoodsConfig(rounds=3), pipeline, batch_size=1)
    world.reset(seed=0)
    act = torch.tensor([[20, 20, 20, 0]])[..., None]  # the free rider is fined 20 a round
    paid = [world.step(act).info["transfer_lump_sum"][0, 0].item() for _ in range(3)]
    # balance before paying: 20, 10 + 20 = 30, 15 + 20 = 35; half is paid, split 4 ways
    assert paid == pytest.approx([20 / 2 / 4, 30 / 2 / 4, 35 / 2 / 4])
    assert pipeline.pool.tolist() == pytest.approx([17.5])
    world.reset(seed=0)  # a new episode starts with an empty pool
    assert pipeline.pool is None
    assert world.step(act).info["transfer_lump_sum"][0, 0].item() == pytest.approx(2.5)
