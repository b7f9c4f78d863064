"""Peer punishment and the sanctioning institution against hand-computed payoffs."""

from __future__ import annotations

import pytest
import torch

from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld
from mechanisms import Pipeline, RoundContext
from mechanisms.redistribution import LumpSum, LumpSumParams
from mechanisms.sanctions import (
    InstitutionParams,
    PeerPunishment,
    PeerPunishmentParams,
    SanctionInstitution,
)

CPU = torch.device("cpu")


def ctx_for(contributions, endowment=20.0, multiplier=1.6, punishment=None) -> RoundContext:
    c = torch.as_tensor(contributions, dtype=torch.float32)
    n = c.shape[-1]
    gross = endowment - c + multiplier / n * c.sum(-1, keepdim=True)
    return RoundContext(
        gross=gross,
        income=gross,
        round=0,
        rounds=10,
        contributions=c,
        endowment=endowment,
        multiplier=multiplier,
        punishment=None if punishment is None else torch.as_tensor(punishment),
    )


def test_peer_punishment_one_to_three_directly():
    mech = PeerPunishment(PeerPunishmentParams(), 3, 2, CPU)  # cost 1, impact 3
    points = torch.zeros(2, 3, 3, dtype=torch.long)
    points[0, 0, 2] = 2  # world 0: agent 0 gives 2 points to agent 2
    points[0, 1, 2] = 1  # and agent 1 gives 1 point to agent 2
    points[1, 2, 0] = 4  # world 1: agent 2 gives 4 points to agent 0
    points[1, 0, 1] = 1
    ctx = ctx_for([[20.0, 20, 0], [0, 10, 20]], punishment=points)
    flow = mech.apply(ctx)
    assert flow.transfer.tolist() == [[-2.0, -1.0, -9.0], [-1.0 - 12.0, -3.0, -4.0]]
    assert flow.pool.tolist() == [0.0, 0.0]
    assert flow.external.tolist() == [-12.0, -20.0]  # destroyed, not redistributed
    assert torch.allclose(flow.imbalance(), torch.zeros(2))


def test_peer_punishment_other_ratio_and_no_stage():
    mech = PeerPunishment(PeerPunishmentParams(cost=0.5, impact=2.0), 2, 1, CPU)
    assert mech.action_heads() == (11,)  # max_points 10 -> 11 choices per other agent
    flow = mech.apply(ctx_for([[0.0, 20.0]], punishment=torch.tensor([[[0, 3], [0, 0]]])))
    assert flow.transfer.tolist() == [[-1.5, -6.0]]
    # a round without a sanction stage moves nothing
    flow = mech.apply(ctx_for([[0.0, 20.0]]))
    assert flow.transfer.abs().sum() == 0 and flow.external.abs().sum() == 0


def test_peer_punishment_through_the_world():
    """A punisher and a free rider among two cooperators, played through a two-stage round."""
    mech = PeerPunishment(PeerPunishmentParams(cost=1.0, impact=3.0, max_points=10), 4, 1, CPU)
    world = PublicGoodsWorld(PublicGoodsConfig(), Pipeline([mech]), batch_size=1)
    world.reset(seed=0)
    act = torch.zeros(1, 4, 4, dtype=torch.long)
    act[0, :, 0] = torch.tensor([20, 20, 20, 0])  # agent 3 free-rides
    world.step(act)
    act = torch.zeros(1, 4, 4, dtype=torch.long)
    act[0, 0, 3] = 5  # agent 0's third head is agent 3: 5 points
    step = world.step(act)
    # gross: cooperators 24, free rider 44; the punisher pays 5, the free rider loses 15
    assert step.reward.tolist() == [[19.0, 24.0, 24.0, 29.0]]
    assert step.info["gross"].tolist() == [[24.0, 24.0, 24.0, 44.0]]
    assert step.flows["peer_punishment"].external.item() == -20.0


@pytest.mark.parametrize(
    ("params", "contributions", "transfer", "pool", "external"),
    [
        # unfunded, threshold 100%, fine 1 per unit short: shortfalls 0, 10, 20, 5
        (
            InstitutionParams(threshold=1.0, fine=1.0, fee=0.0),
            [20.0, 10.0, 0.0, 15.0],
            [0.0, -10.0, -20.0, -5.0],
            35.0,
            0.0,
        ),
        # threshold 50% (10 coin), fine 2, fee 1: shortfalls 0, 0, 10, 0
        (
            InstitutionParams(threshold=0.5, fine=2.0, fee=1.0),
            [20.0, 10.0, 0.0, 15.0],
            [-1.0, -1.0, -21.0, -1.0],
            20.0,
            -4.0,
        ),
        # nobody short: only fees, which leave the economy
        (
            InstitutionParams(threshold=0.25, fine=5.0, fee=0.5),
            [20.0, 10.0, 5.0, 15.0],
            [-0.5, -0.5, -0.5, -0.5],
            0.0,
            -2.0,
        ),
    ],
)
def test_institution_fines_and_fees(params, contributions, transfer, pool, external):
    mech = SanctionInstitution(params, 4, 1, CPU)
    flow = mech.apply(ctx_for([contributions]))
    assert flow.transfer[0].tolist() == pytest.approx(transfer)
    assert flow.pool.item() == pytest.approx(pool)
    assert flow.external.item() == pytest.approx(external)
    assert flow.imbalance().abs().item() < 1e-5


def test_institution_with_rebate_in_the_world():
    """Fines rebated equally: the scenario 'public_goods_institution', one round by hand."""
    inst = SanctionInstitution(InstitutionParams(threshold=1.0, fine=1.0, fee=1.0), 4, 1, CPU)
    rebate = LumpSum(LumpSumParams(), 4, 1, CPU)
    world = PublicGoodsWorld(PublicGoodsConfig(), Pipeline([inst, rebate]), batch_size=1)
    world.reset(seed=0)
    step = world.step(torch.tensor([[20, 20, 20, 0]])[..., None])
    # gross 24, 24, 24, 44; fee 1 each; the free rider is fined 20; 20 rebated as 5 each
    assert step.reward.tolist() == [[28.0, 28.0, 28.0, 28.0]]
    assert step.info["transfer_sanction_institution"].tolist() == [[-1.0, -1.0, -1.0, -21.0]]
    assert step.info["transfer_lump_sum"].tolist() == [[5.0, 5.0, 5.0, 5.0]]


def test_institution_needs_contributions():
    mech = SanctionInstitution(InstitutionParams(), 2, 1, CPU)
    ctx = RoundContext(gross=torch.zeros(1, 2), income=torch.zeros(1, 2), round=0, rounds=1)
    with pytest.raises(ValueError, match="contributions"):
        mech.apply(ctx)


def test_institution_shows_its_rules_to_agents_only_when_observed():
    hidden = SanctionInstitution(InstitutionParams(), 4, 2, CPU)
    assert hidden.obs_dim == 0
    seen = SanctionInstitution(InstitutionParams(observed=True), 4, 2, CPU)
    seen.set_control("fine", torch.tensor([[1.0], [3.0]]))
    seen.set_control("threshold", torch.tensor([[0.5], [1.0]]))
    obs = seen.observation()  # [B, N, 3]: threshold, fine / (1 + fine), fee / (1 + fee)
    assert obs.shape == (2, 4, 3)
    assert obs[:, 0].tolist() == [[0.5, 0.5, 0.0], [1.0, 0.75, 0.0]]
    assert torch.equal(obs[:, 3], obs[:, 0])  # every agent sees the same rules
    low, high = seen.observation_bounds(None)
    assert low == [0.0] * 3 and high == [1.0] * 3


def test_a_world_under_an_observed_institution_carries_its_rules_in_the_observation():
    mech = SanctionInstitution(InstitutionParams(observed=True, fine=2.0), 4, 3, CPU)
    world = PublicGoodsWorld(PublicGoodsConfig(), Pipeline([mech]), batch_size=3)
    obs = world.reset(seed=0)
    seen = obs[..., world.spec.obs_fields["mechanisms"]]  # [B, N, 3]
    assert seen[0, 0].tolist() == pytest.approx([1.0, 2.0 / 3.0, 0.0])
