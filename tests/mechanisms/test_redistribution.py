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


# -- Democratic AI's redistribution family -------------------------------------------------------


def _democratic_world(preset: str, batch: int = 1) -> PublicGoodsWorld:
    from coopsim.schema import build
    from mechanisms.redistribution import Redistribution, RedistributionParams

    params = build(RedistributionParams, {"preset": preset})
    cfg = PublicGoodsConfig(endowment=10.0, endowments=[10.0, 2.0, 2.0, 2.0], levels=11)
    return PublicGoodsWorld(cfg, Pipeline([Redistribution(params, 4, batch, CPU)]), batch, CPU)


# contributions 5, 2, 1, 0 from endowments 10, 2, 2, 2; r = 1.6: pot = 12.8
POT = 12.8
EXPECTED_SHARES = {
    "strict_egalitarian": [0.25, 0.25, 0.25, 0.25],
    "libertarian": [5 / 8, 2 / 8, 1 / 8, 0.0],  # c_i / sum c
    "liberal_egalitarian": [0.5 / 2.0, 1.0 / 2.0, 0.5 / 2.0, 0.0],  # (c_i / e_i) normalised
}


@pytest.mark.parametrize("preset", list(EXPECTED_SHARES))
def test_presets_pay_the_pot_as_democratic_ai_says(preset):
    world = _democratic_world(preset)
    # levels of 11: agent 0 steps by 1 (of 10), the others by 0.2 (of 2)
    actions = torch.tensor([[[5], [10], [5], [0]]])
    st = world.step(actions)
    contribution = st.info["contribution"][0]
    assert contribution.tolist() == pytest.approx([5.0, 2.0, 1.0, 0.0])
    kept = torch.tensor([10.0, 2.0, 2.0, 2.0]) - contribution
    paid = st.info["net"][0] - kept
    assert paid.tolist() == pytest.approx([POT * s for s in EXPECTED_SHARES[preset]], abs=1e-5)
    assert float(paid.sum()) == pytest.approx(POT)  # it pays out exactly the pot
    flow = st.flows["redistribution"]
    assert flow.pool.abs().sum() == 0 and flow.external.abs().sum() == 0
    assert float(flow.transfer.sum()) == pytest.approx(0.0, abs=1e-5)


def test_mixed_weights_and_per_world_controls():
    world = _democratic_world("strict_egalitarian", batch=2)
    mech = world.pipeline.mechanisms[0]
    mech.set_controls(torch.tensor([[1.0, 0.0], [0.5, 0.5]]))  # world 1: w = v = 1/2
    st = world.step(torch.tensor([[[5], [10], [5], [0]]] * 2))
    kept = torch.tensor([10.0, 2.0, 2.0, 2.0]) - st.info["contribution"][1]
    lib, liberal = EXPECTED_SHARES["libertarian"], EXPECTED_SHARES["liberal_egalitarian"]
    shares = [0.5 * 0.25 + 0.5 * (0.5 * a + 0.5 * b) for a, b in zip(lib, liberal)]
    assert (st.info["net"][1] - kept).tolist() == pytest.approx([POT * s for s in shares], abs=1e-5)
    assert st.info["net"][0].tolist() == pytest.approx((kept + POT / 4).tolist(), abs=1e-5)


def test_nobody_contributing_is_shared_equally():
    world = _democratic_world("libertarian")
    st = world.step(torch.zeros(1, 4, 1, dtype=torch.long))
    assert st.info["net"][0].tolist() == [10.0, 2.0, 2.0, 2.0]
