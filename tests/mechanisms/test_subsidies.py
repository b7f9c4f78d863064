"""Matching funds change the best response exactly where r(1+m)/N crosses 1; provision points."""

from __future__ import annotations

import pytest
import torch

from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld
from mechanisms import Pipeline, RoundContext
from mechanisms.subsidies import (
    MatchingFunds,
    MatchingParams,
    ProvisionPoint,
    ProvisionPointParams,
)

CPU = torch.device("cpu")
LEVELS = 21  # E = 20, one coin per level


def own_payoffs(mechs, others: list[int], config: PublicGoodsConfig | None = None) -> torch.Tensor:
    """Agent 0's payoff for every own level 0..20 given the others' levels, one world each."""
    config = config or PublicGoodsConfig()
    b = config.levels
    pipeline = Pipeline([cls(p, config.num_agents, b, CPU) for cls, p in mechs])
    world = PublicGoodsWorld(config, pipeline, batch_size=b)
    world.reset(seed=0)
    act = torch.zeros(b, config.num_agents, 1, dtype=torch.long)
    act[:, 0, 0] = torch.arange(b)
    act[:, 1:, 0] = torch.tensor(others)
    return world.step(act).reward[:, 0]  # [levels]


OTHERS = [[0, 0, 0], [20, 20, 20], [5, 10, 15], [0, 20, 3], [7, 7, 7]]


@pytest.mark.parametrize("rate", [2.0, 3.0, 1.6])  # r(1+m)/N = 1.2, 1.6, 1.04
@pytest.mark.parametrize("others", OTHERS)
def test_matching_above_one_makes_full_contribution_the_best_response(rate, others):
    private_return = 1.6 * (1 + rate) / 4
    assert private_return > 1
    pay = own_payoffs([(MatchingFunds, MatchingParams(rate=rate))], others)
    best = int(pay.argmax())
    assert best == LEVELS - 1
    # strictly better than every deviation level, each unit adding r(1+m)/N - 1
    assert bool((pay[-1] > pay[:-1]).all())
    steps = pay[1:] - pay[:-1]
    assert torch.allclose(steps, torch.full_like(steps, private_return - 1), atol=1e-4)


@pytest.mark.parametrize("rate", [0.0, 0.5, 1.0, 1.4])  # r(1+m)/N = 0.4, 0.6, 0.8, 0.96
@pytest.mark.parametrize("others", OTHERS)
def test_matching_below_one_leaves_zero_the_best_response(rate, others):
    private_return = 1.6 * (1 + rate) / 4
    assert private_return < 1
    pay = own_payoffs([(MatchingFunds, MatchingParams(rate=rate))], others)
    assert int(pay.argmax()) == 0
    assert bool((pay[0] > pay[1:]).all())
    steps = pay[1:] - pay[:-1]
    assert torch.allclose(steps, torch.full_like(steps, private_return - 1), atol=1e-4)


def test_matching_flow_by_hand():
    mech = MatchingFunds(MatchingParams(rate=2.0), 4, 1, CPU)
    c = torch.tensor([[20.0, 10.0, 0.0, 5.0]])
    ctx = RoundContext(
        gross=torch.zeros(1, 4),
        income=torch.zeros(1, 4),
        round=0,
        rounds=1,
        contributions=c,
        endowment=20.0,
        multiplier=1.6,
    )
    flow = mech.apply(ctx)
    # sponsor adds 2 * 35 = 70, multiplied by 1.6 = 112, shared by 4 = 28 each
    assert flow.transfer[0].tolist() == pytest.approx([28.0] * 4)
    assert flow.external.item() == pytest.approx(112.0)
    assert flow.pool.item() == 0.0
    assert abs(flow.imbalance().item()) < 1e-4


def _provision_round(refund: bool, levels: list[int], threshold: float = 0.5) -> list[float]:
    mech = ProvisionPoint(ProvisionPointParams(threshold=threshold, refund=refund), 4, 1, CPU)
    world = PublicGoodsWorld(PublicGoodsConfig(), Pipeline([mech]), batch_size=1)
    world.reset(seed=0)
    step = world.step(torch.tensor([levels])[..., None])
    assert abs(step.flows["provision_point"].imbalance().item()) < 1e-4
    return step.reward[0].tolist()


@pytest.mark.parametrize("refund", [True, False])
def test_provision_point_reached_pays_as_usual(refund):
    # total 60 >= 40 needed: normal payoffs, 60 * 0.4 = 24 shared
    assert _provision_round(refund, [20, 20, 20, 0]) == pytest.approx([24, 24, 24, 44])
    # exactly at the threshold counts as reached: 40 * 0.4 = 16
    assert _provision_round(refund, [20, 10, 10, 0]) == pytest.approx([16, 26, 26, 36])


def test_provision_point_missed_with_refund_returns_contributions():
    # total 30 < 40: the good is not provided and every contribution comes back
    assert _provision_round(True, [20, 10, 0, 0]) == pytest.approx([20, 20, 20, 20])


def test_provision_point_missed_without_refund_loses_contributions():
    assert _provision_round(False, [20, 10, 0, 0]) == pytest.approx([0, 10, 20, 20])
    # a higher threshold: 75% of 80 = 60 needed, 59 misses
    assert _provision_round(False, [20, 20, 19, 0], threshold=0.75) == pytest.approx([0, 0, 1, 20])
    assert _provision_round(True, [20, 20, 19, 0], threshold=0.75) == pytest.approx([20] * 4)


def test_provision_point_batched():
    mech = ProvisionPoint(ProvisionPointParams(threshold=0.5, refund=False), 4, 2, CPU)
    world = PublicGoodsWorld(PublicGoodsConfig(), Pipeline([mech]), batch_size=2)
    world.reset(seed=0)
    step = world.step(torch.tensor([[20, 20, 20, 0], [20, 10, 0, 0]])[..., None])
    expected = torch.tensor([[24.0, 24, 24, 44], [0, 10, 20, 20]])
    assert torch.allclose(step.reward, expected, atol=1e-4)


def test_provision_point_with_unequal_endowments_needs_a_share_of_their_sum():
    """Endowments 10/2/2/2: the group holds 16, so a threshold of 0.5 needs 8 coin."""
    mech = ProvisionPoint(ProvisionPointParams(threshold=0.5, refund=True), 4, 2, CPU)
    config = PublicGoodsConfig(endowments=[10.0, 2.0, 2.0, 2.0])
    world = PublicGoodsWorld(config, Pipeline([mech]), batch_size=2)
    world.reset(seed=0)
    # world 0: seat 0 gives all 10 (reached); world 1: seat 0 gives 5 (missed, refunded)
    step = world.step(torch.tensor([[20, 0, 0, 0], [10, 0, 0, 0]])[..., None])
    expected = torch.tensor([[4.0, 6, 6, 6], [10, 2, 2, 2]])
    assert torch.allclose(step.reward, expected, atol=1e-4)
