"""The one-step tax economy against hand-computed incomes, taxes, rebates and utilities."""

from __future__ import annotations

import math

import pytest
import torch

from coopsim.envs.one_step_economy import (
    OneStepEconomyConfig,
    OneStepEconomyWorld,
    default_skills,
)
from coopsim.envs.utility import isoelastic
from coopsim.schema import ConfigError, build
from mechanisms import Pipeline
from mechanisms.redistribution import LumpSum, LumpSumParams
from mechanisms.sanctions import PeerPunishment, PeerPunishmentParams
from mechanisms.tax import BracketTax, TaxParams

CPU = torch.device("cpu")
ETA = 0.23


def utility(coin: float, hours: float, cost: float) -> float:
    return (coin ** (1 - ETA) - 1) / (1 - ETA) - cost * hours


def world_with_tax(batch: int = 1, brackets=(0.0, 100.0), rates=(0.1, 0.5), **kw):
    cfg = OneStepEconomyConfig(**{"num_agents": 2, "skills": [1.0, 2.0], **kw})
    tax = BracketTax(TaxParams(brackets=list(brackets), rates=list(rates)), 2, batch, CPU)
    rebate = LumpSum(LumpSumParams(), 2, batch, CPU)
    return OneStepEconomyWorld(cfg, Pipeline([tax, rebate]), batch_size=batch)


def labour(levels: list[list[int]]) -> torch.Tensor:
    """Labour choices [B, N] -> actions [B, N, 1]."""
    return torch.tensor(levels)[..., None]


def test_free_market_payoffs_by_hand():
    cfg = OneStepEconomyConfig(num_agents=2, skills=[1.0, 2.0], labour_cost=0.3)
    world = OneStepEconomyWorld(cfg)
    world.reset(seed=0)
    step = world.step(labour([[5, 10]]))  # 11 levels over 0..100 hours: 50 and 100 hours
    assert step.info["labour"][0].tolist() == [50.0, 100.0]
    assert step.info["income"][0].tolist() == [50.0, 200.0]  # skill x hours
    assert step.info["gross"][0].tolist() == [50.0, 200.0]
    assert step.info["net"][0].tolist() == [50.0, 200.0]  # no mechanism: coin is income
    expected = [utility(50.0, 50.0, 0.3), utility(200.0, 100.0, 0.3)]
    assert step.reward[0].tolist() == pytest.approx(expected, rel=1e-5)
    assert step.info["utility"][0].tolist() == pytest.approx(expected, rel=1e-5)
    assert step.round_end and bool(step.done.all())


def test_tax_then_rebate_by_hand_and_budget_balance():
    # brackets 0 | 100 at 10%, 50%: incomes 50 and 200 pay 5 and 10 + 50; the 65 collected
    # is rebated 32.5 each.
    world = world_with_tax(labour_cost=0.3)
    world.reset(seed=0)
    step = world.step(labour([[5, 10]]))
    assert step.info["transfer_tax"][0].tolist() == pytest.approx([-5.0, -60.0])
    assert step.info["transfer_lump_sum"][0].tolist() == pytest.approx([32.5, 32.5])
    assert step.info["net"][0].tolist() == pytest.approx([77.5, 172.5])
    expected = [utility(77.5, 50.0, 0.3), utility(172.5, 100.0, 0.3)]
    assert step.reward[0].tolist() == pytest.approx(expected, rel=1e-5)
    # budget balance: the pipeline moves coin between agents and creates none
    assert step.info["net"].sum().item() == pytest.approx(step.info["income"].sum().item())
    for flow in step.flows.values():
        assert flow.imbalance().abs().max().item() < 1e-4
    assert world.pipeline.pool.abs().max().item() < 1e-4


def test_each_world_is_taxed_under_its_own_rates():
    world = world_with_tax(batch=3, labour_cost=0.3)
    world.reset(seed=0)
    tax = world.pipeline.mechanisms[0]
    tax.set_rates(torch.tensor([[0.0, 0.0], [0.1, 0.5], [1.0, 1.0]]))
    obs = world.observe()  # agents see their own world's rates
    rates_seen = obs[..., world.spec.obs_fields["mechanisms"]][..., :2]
    assert torch.equal(rates_seen[2, 1], torch.tensor([1.0, 1.0]))
    assert torch.equal(rates_seen[1, 0], torch.tensor([0.1, 0.5]))
    step = world.step(labour([[5, 10]] * 3))
    expected = torch.tensor([[50.0, 200.0], [77.5, 172.5], [125.0, 125.0]])  # free, above, pooled
    assert torch.allclose(step.info["net"], expected)

    # the batch is B independent one-world steps
    for b in range(3):
        single = world_with_tax(batch=1, labour_cost=0.3)
        single.reset(seed=0)
        single.pipeline.mechanisms[0].set_rates(tax.rates[b])
        ref = single.step(labour([[5, 10]]))
        assert torch.allclose(ref.reward[0], step.reward[b])


def test_observation_fields():
    cfg = OneStepEconomyConfig(num_agents=2, skills=[1.0, 2.0], max_skill=4.0)
    world = world_with_tax(batch=2, max_skill=4.0)
    obs = world.reset(seed=0)
    f = world.spec.obs_fields
    # skill, labour scale, two rates, the marginal rate and income so far this period
    assert world.spec.obs_dim == 2 + 2 + 2
    assert obs[..., f["skill"]][..., 0].tolist() == [[0.25, 0.5]] * 2  # skill / max_skill
    assert obs[..., f["labour_scale"]].unique().tolist() == [1.0]
    assert obs[..., f["mechanisms"]][0, 0].tolist() == pytest.approx([0.1, 0.5, 0.1, 0.0])
    world.set_labour_scale(0.25)
    assert world.observe()[..., f["labour_scale"]].unique().tolist() == [0.25]
    assert world.spec.horizon == 1 and world.spec.action_nvec == (cfg.labour_levels,)


def test_labour_scale_warms_up_the_cost():
    world = OneStepEconomyWorld(OneStepEconomyConfig(num_agents=1, skills=[2.0], labour_cost=0.5))
    world.set_labour_scale(0.0)
    world.reset(seed=0)
    free = world.step(labour([[10]])).reward.item()
    assert free == pytest.approx((200.0 ** (1 - ETA) - 1) / (1 - ETA), rel=1e-5)
    world.set_labour_scale(0.5)
    world.reset(seed=0)
    half = world.step(labour([[10]])).reward.item()
    assert half == pytest.approx(free - 0.5 * 0.5 * 100.0, rel=1e-5)
    with pytest.raises(ValueError, match="labour scale"):
        world.set_labour_scale(1.5)


def test_isoelastic_utility():
    coin = torch.tensor([0.0, 1.0, 100.0])
    assert isoelastic(coin, ETA).tolist() == pytest.approx(
        [-1 / (1 - ETA), 0.0, (100 ** (1 - ETA) - 1) / (1 - ETA)], rel=1e-6
    )
    assert isoelastic(torch.tensor([math.e]), 1.0).item() == pytest.approx(1.0)


def test_skills_given_quantiles_or_drawn():
    given = OneStepEconomyConfig(num_agents=3, skills=[1.0, 2.5, 2.0])
    assert default_skills(given) == [1.0, 2.5, 2.0]
    # quantiles (i + 1/2) / N of a Pareto with x_min 1 and shape 1.5, clipped at 2
    cfg = OneStepEconomyConfig(num_agents=2, min_skill=1.0, max_skill=2.0, pareto_alpha=1.5)
    assert default_skills(cfg) == pytest.approx([0.75 ** (-1 / 1.5), 2.0])
    drawn = OneStepEconomyConfig(num_agents=5, skill_seed=3, pareto_alpha=2.0)
    skills = default_skills(drawn)
    assert skills == default_skills(
        OneStepEconomyConfig(num_agents=5, skill_seed=3, pareto_alpha=2.0)
    )
    assert skills == sorted(skills) and all(1.0 <= s <= 3.0 for s in skills)
    assert skills != default_skills(
        OneStepEconomyConfig(num_agents=5, skill_seed=4, pareto_alpha=2.0)
    )


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"num_agents": 3, "skills": [1.0, 2.0]}, "one value per agent"),
        ({"num_agents": 2, "skills": [1.0, 4.0]}, "max_skill"),
        ({"min_skill": 4.0}, "min_skill"),
    ],
)
def test_bad_configs(data, words):
    with pytest.raises(ConfigError, match=words) as err:
        build(OneStepEconomyConfig, data, source="s.toml", prefix="world")
    assert err.value.field == "world"


def test_refuses_mechanisms_it_cannot_play():
    punish = PeerPunishment(PeerPunishmentParams(), 2, 1, CPU)
    with pytest.raises(ValueError, match="sanction stage"):
        OneStepEconomyWorld(OneStepEconomyConfig(num_agents=2), Pipeline([punish]))


def test_no_known_social_optimum():
    with pytest.raises(NotImplementedError):
        OneStepEconomyWorld(OneStepEconomyConfig()).social_optimum()
