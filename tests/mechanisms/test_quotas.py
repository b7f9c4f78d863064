"""Quota and extraction tax: what they let through, what they charge, and that the books
balance."""

from __future__ import annotations

import pytest
import torch

from coopsim.envs.commons import FORWARD, NOOP, STEP_RIGHT, CommonsConfig, CommonsWorld
from coopsim.scenario import from_dict
from coopsim.schema import ConfigError, build
from mechanisms import MECHANISMS
from mechanisms.base import Pipeline, RoundContext
from mechanisms.quotas import ExtractionTax, ExtractionTaxParams, Quota, QuotaParams
from mechanisms.redistribution import LumpSum, LumpSumParams

ROW = """
.........
...AAAA..
.........
P.P......
"""


def walker(*mechanisms, batch: int = 1) -> CommonsWorld:
    """Agent 0 below the apple row's first apple facing north, agent 1 far away."""
    cfg = CommonsConfig(num_agents=2, map_text=ROW, view_radius=2, regrowth_probabilities=[0.0])
    w = CommonsWorld(cfg, Pipeline(list(mechanisms)), batch_size=batch)
    w.place(torch.tensor([[2, 3], [3, 8]]), torch.tensor([0, 0]))
    return w


def walk(w: CommonsWorld, steps: int) -> list:
    """Forward onto the row, then right along it: one apple a step while apples last."""
    out = []
    for k in range(steps):
        a = FORWARD if k == 0 else STEP_RIGHT
        out.append(w.step(torch.tensor([[[a], [NOOP]]]).expand(w.batch_size, -1, -1)))
    return out


def quota(batch: int = 1, **kw) -> Quota:
    return Quota(QuotaParams(**kw), num_agents=2, batch_size=batch, device="cpu")


def test_registered_for_the_commons_only():
    assert MECHANISMS["quota"] is Quota and MECHANISMS["extraction_tax"] is ExtractionTax
    base = {
        "world": {"kind": "public_goods"},
        "mechanisms": [{"kind": "quota"}],
        "population": [{"policy": "free_rider", "count": 4}],
    }
    with pytest.raises(ConfigError, match="'quota' does not apply to a 'public_goods' world"):
        from_dict(base)
    with pytest.raises(ConfigError, match="enforcement: got 'jail'"):
        build(QuotaParams, {"enforcement": "jail"}, prefix="mechanisms[0]")


def test_enforced_quota_leaves_the_apple_standing():
    w = walker(quota(cap=2, period=100))
    steps = walk(w, 4)
    assert [s.info["harvest"][0, 0].item() for s in steps] == [1.0, 1.0, 0.0, 0.0]
    assert int(w.stock()) == 2  # the two apples walked over beyond the cap still stand
    assert all(s.reward[0, 0] == s.info["harvest"][0, 0] for s in steps)  # no fines
    assert steps[-1].obs[0, 0, w.layout.slices["mechanisms"]].item() == 0.0  # cap used up


def test_quota_restarts_every_period():
    q = quota(cap=1, period=2)
    gross = torch.tensor([[1.0, 0.0]])
    for t in range(2):
        q.apply(RoundContext(gross=gross, income=gross, round=t, rounds=10))
    assert q.taken.tolist() == [[0.0, 0.0]]  # period over after round 1
    assert q.allowance().tolist() == [[1.0, 1.0]]
    q.apply(RoundContext(gross=gross, income=gross, round=2, rounds=10))
    assert q.allowance().tolist() == [[0.0, 1.0]]


def test_fined_quota_charges_units_beyond_the_cap_and_balances():
    w = walker(
        quota(cap=2, period=100, enforcement="fine", fine=3.0),
        LumpSum(LumpSumParams(), num_agents=2, batch_size=1, device="cpu"),
    )
    steps = walk(w, 4)
    assert [s.info["harvest"][0, 0].item() for s in steps] == [1.0] * 4
    fines = [s.info["transfer_quota"][0].tolist() for s in steps]
    assert fines == [[0.0, 0.0], [0.0, 0.0], [-3.0, 0.0], [-3.0, 0.0]]
    rebates = [s.info["transfer_lump_sum"][0].tolist() for s in steps]
    assert rebates[2] == [1.5, 1.5]
    for s in steps:
        for flow in s.flows.values():
            assert flow.imbalance().abs().max() < 1e-6
        assert s.info["net"].sum().item() == pytest.approx(s.info["gross"].sum().item())


def test_extraction_tax_rises_as_the_stock_falls():
    tax = ExtractionTax(ExtractionTaxParams(rate=0.5, surcharge=1.0), 2, 2, "cpu")
    tax.observe_stock(torch.tensor([1.0, 0.25]))
    gross = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    flow = tax.apply(RoundContext(gross=gross, income=gross, round=0, rounds=10))
    assert flow.transfer.tolist() == [[-0.5, 0.0], [-1.25, -1.25]]  # 0.5 + 1 x 0.75
    assert flow.pool.tolist() == [0.5, 2.5] and flow.imbalance().abs().max() == 0
    assert tax.observation()[:, :, 0].tolist() == [[0.5, 0.5], [1.25, 1.25]]


def test_extraction_tax_in_the_world_is_rebated_in_full():
    tax = ExtractionTax(ExtractionTaxParams(rate=0.4, surcharge=0.8), 2, 1, "cpu")
    w = walker(tax, LumpSum(LumpSumParams(), num_agents=2, batch_size=1, device="cpu"))
    steps = walk(w, 3)
    # stock share at the start of each step: 4/4, 3/4, 2/4 -> charge 0.4, 0.6, 0.8
    assert [-s.info["transfer_extraction_tax"][0, 0].item() for s in steps] == pytest.approx(
        [0.4, 0.6, 0.8]
    )
    assert [s.info["net"][0, 1].item() for s in steps] == pytest.approx([0.2, 0.3, 0.4])
    for s in steps:
        assert s.info["net"].sum().item() == pytest.approx(s.info["gross"].sum().item())


def test_controls_are_per_world_and_travel_with_replicate():
    q = quota(batch=3, cap=10, period=100)
    assert q.controls[:, 0].tolist() == pytest.approx([0.1] * 3)
    q.set_controls(torch.tensor([[0.0], [0.2], [0.5]]))
    assert q.cap.tolist() == pytest.approx([0.0, 20.0, 50.0])
    q.replicate(torch.tensor([2, 2, 0]))
    assert q.cap.tolist() == pytest.approx([50.0, 50.0, 0.0])
    assert Quota.planner_refusal(QuotaParams()) is None and Quota.period_of(QuotaParams()) == 100
    tax = ExtractionTax(ExtractionTaxParams(), 2, 2, "cpu")
    tax.set_controls(torch.tensor([0.3, 0.6]))
    assert tax.controls.reshape(-1).tolist() == pytest.approx([0.3, 0.6, 0.3, 0.6])
