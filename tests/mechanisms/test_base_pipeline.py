"""Budget balance of every pipeline: each flow balances, and so does a whole episode.

For each flow ``transfer.sum(-1) + pool == external``. Summed over an episode, what agents
gained over their gross payoffs equals what entered from outside minus what the institution
still holds: ``sum(net) - sum(gross) == sum(external) - final pool``.
"""

from __future__ import annotations

import dataclasses
import random

import pytest
import torch

from coopsim import builder
from coopsim import scenario as sc
from coopsim.agents.scripted import SCRIPTED
from coopsim.envs import World
from coopsim.envs.matrix_games import MatrixGameConfig, MatrixGameWorld
from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld
from mechanisms import MECHANISMS, Pipeline
from mechanisms.redistribution import LumpSumParams, RedistributionParams
from mechanisms.sanctions import InstitutionParams, PeerPunishmentParams
from mechanisms.subsidies import MatchingParams, ProvisionPointParams
from mechanisms.tax import TaxParams

CPU = torch.device("cpu")


def random_actions(world: World, gen: torch.Generator) -> torch.Tensor:
    high = torch.tensor(world.spec.action_nvec)
    u = torch.rand(world.batch_size, world.spec.num_agents, len(high), generator=gen)
    return (u * high).long()


def check_episode(world: World, seed: int, act=None) -> int:
    """Play one episode; assert every flow balances and the episode's books close."""
    gen = torch.Generator().manual_seed(seed)
    obs = world.reset(seed=seed)
    b = world.batch_size
    net = torch.zeros(b, dtype=torch.float64)
    gross = torch.zeros(b, dtype=torch.float64)
    external = torch.zeros(b, dtype=torch.float64)
    pool = torch.zeros(b, dtype=torch.float64)
    rounds = 0
    last_utility = None  # [B, N] where the world reports utility: rewards are its changes
    while True:
        actions = act(obs, world.gen) if act is not None else random_actions(world, gen)
        step = world.step(actions)
        obs = step.obs
        if step.round_end:
            rounds += 1
            assert set(step.flows) == set(world.pipeline.labels)
            transfers = torch.zeros(b, world.spec.num_agents, dtype=torch.float64)
            for label, flow in step.flows.items():
                scale = 1 + flow.transfer.abs().sum(-1).double()
                assert (flow.imbalance().double().abs() <= 1e-5 * scale).all(), label
                assert torch.equal(step.info[f"transfer_{label}"], flow.transfer)
                transfers += flow.transfer.double()
                external += flow.external.double()
                pool += flow.pool.double()
            round_net = step.info["net"].double()
            round_gross = step.info["gross"].double()
            assert torch.allclose(round_net - round_gross, transfers, atol=1e-3)
            # the reward is the net payoff, or where the world has utility the utility gained
            # this step (a one-step world gains all of it at once)
            if "utility" not in step.info:
                assert torch.allclose(step.reward.double(), round_net)
            elif last_utility is not None:
                gained = step.info["utility"].double() - last_utility
                assert torch.allclose(step.reward.double(), gained, atol=1e-4)
            elif world.spec.horizon == 1:
                assert torch.allclose(step.reward.double(), step.info["utility"].double())
            if "utility" in step.info:
                last_utility = step.info["utility"].double()
            net += round_net.sum(-1)
            gross += round_gross.sum(-1)
        if bool(step.done[0]):
            break
    scale = 1 + gross.abs() + external.abs()
    assert ((net - gross) - (external - pool)).abs().le(1e-5 * scale).all()
    # the pipeline's balance is what the flows put into the pool over the episode
    final = world.pipeline.pool
    final = torch.zeros(b) if final is None else final
    assert torch.allclose(final.double(), pool, atol=1e-4 * float(scale.max()))
    return rounds


@pytest.mark.parametrize("name", sorted(sc.list_scenarios()))
def test_every_scenario_pipeline_balances(name):
    scenario = sc.load(name)
    # the pipeline is what is checked: a few rounds are enough, and keep the test fast
    # rounds, or steps of an economy's episode; one-step worlds have one
    length = next((f for f in ("rounds", "episode_length") if hasattr(scenario.world, f)), None)
    rounds = min(getattr(scenario.world, length), 12) if length else 1
    if length:
        scenario.world = dataclasses.replace(scenario.world, **{length: rounds})
    world = builder.make_world(scenario, batch_size=4)
    assert len(world.pipeline) == len(scenario.mechanisms)
    assert [m.kind for m in world.pipeline] == [m.kind for m in scenario.mechanisms]
    assert check_episode(world, seed=1) == rounds
    # and with the scenario's own population where it is all scripted
    if all(g.policy in SCRIPTED for g in scenario.population):
        population = builder.make_population(scenario, world)
        check_episode(world, seed=2, act=population.act)


def random_params(kind: str, rng: random.Random):
    if kind == "peer_punishment":
        return PeerPunishmentParams(
            cost=rng.uniform(0, 2), impact=rng.uniform(0, 4), max_points=rng.randint(1, 5)
        )
    if kind == "sanction_institution":
        return InstitutionParams(
            threshold=rng.random(), fine=rng.uniform(0, 3), fee=rng.choice([0.0, rng.random()])
        )
    if kind == "matching":
        return MatchingParams(rate=rng.uniform(0, 3))
    if kind == "provision_point":
        return ProvisionPointParams(threshold=rng.uniform(0.05, 1), refund=rng.random() < 0.5)
    if kind == "lump_sum":
        return LumpSumParams(share=rng.choice([1.0, rng.random()]))
    if kind == "redistribution":
        return RedistributionParams(w=rng.random(), v=rng.random())
    if kind == "tax":
        k = rng.randint(1, 4)
        cuts = sorted(rng.sample(range(1, 60), k - 1))
        return TaxParams(
            brackets=[0.0, *map(float, cuts)],
            rates=[rng.random() for _ in range(k)],
            period=rng.randint(1, 4),
        )
    raise AssertionError(kind)


@pytest.mark.parametrize("case", range(24))
def test_random_pipelines_balance(case):
    rng = random.Random(case)
    public_goods = case % 4 != 3
    world_kind = "public_goods" if public_goods else "matrix_game"
    kinds = [k for k, cls in MECHANISMS.items() if cls.worlds is None or world_kind in cls.worlds]
    n = rng.randint(2, 6)
    b = rng.randint(1, 5)
    chosen = [rng.choice(kinds) for _ in range(rng.randint(1, 5))]
    mechs = [MECHANISMS[k](random_params(k, rng), n, b, CPU) for k in chosen]
    pipeline = Pipeline(mechs)
    rounds = rng.randint(1, 7)
    if public_goods:
        config = PublicGoodsConfig(num_agents=n, rounds=rounds, multiplier=rng.uniform(1, n))
        world = PublicGoodsWorld(config, pipeline, batch_size=b)
    else:
        config = MatrixGameConfig(
            game=rng.choice(["prisoners_dilemma", "stag_hunt", "chicken"]),
            num_agents=n,
            rounds=rounds,
        )
        world = MatrixGameWorld(config, pipeline, batch_size=b)
    assert check_episode(world, seed=case) == rounds
    # a second episode in the same world starts from fresh mechanism state
    assert check_episode(world, seed=case + 100) == rounds


def test_duplicate_mechanisms_get_unique_labels():
    mechs = [
        MECHANISMS["tax"](TaxParams(rates=[0.1]), 3, 2, CPU),
        MECHANISMS["lump_sum"](LumpSumParams(), 3, 2, CPU),
        MECHANISMS["tax"](TaxParams(rates=[0.2]), 3, 2, CPU),
    ]
    pipeline = Pipeline(mechs)
    assert pipeline.labels == ["tax_1", "lump_sum", "tax_2"]
    world = PublicGoodsWorld(PublicGoodsConfig(num_agents=3), pipeline, batch_size=2)
    check_episode(world, seed=0)
