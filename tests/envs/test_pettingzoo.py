"""The PettingZoo adapter passes PettingZoo's own API and seed tests on every scenario."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pettingzoo.test import parallel_api_test, parallel_seed_test

from coopsim import scenario as sc
from coopsim.envs.pettingzoo import parallel_env

SCENARIOS = sorted(sc.list_scenarios())


def test_scenarios_found():
    assert SCENARIOS, "no scenario files found"


@pytest.mark.parametrize("name", SCENARIOS)
def test_parallel_api(name):
    # A world kind the adapter cannot wrap fails here (no skip): every scenario must adapt.
    env = parallel_env(name, seed=0)
    parallel_api_test(env, num_cycles=3 * env.world.spec.horizon)
    obs, _ = env.reset(seed=1)
    assert env.agents == [f"agent_{i}" for i in range(env.world.spec.num_agents)]
    for agent in env.agents:
        assert env.observation_space(agent).contains(obs[agent])


@pytest.mark.parametrize("name", SCENARIOS)
def test_parallel_seed(name):
    parallel_seed_test(lambda: parallel_env(name))


@pytest.mark.parametrize("name", SCENARIOS)
def test_matches_batched_world(name):
    """Fixed actions give the adapter the batched world's rewards, obs and info at B=1."""
    scenario = sc.load(name)
    env = parallel_env(scenario, seed=3)
    world = sc.make_world(scenario, batch_size=1)
    spec = world.spec
    rng = np.random.default_rng(7)
    obs_env, _ = env.reset(seed=3)
    # the adapter seeds its world with the first draw of a generator seeded by reset's seed
    # (worlds with random maps and skills, like the economy, depend on it)
    obs_world = world.reset(seed=int(np.random.default_rng(3).integers(0, 2**63 - 1)))
    np.testing.assert_array_equal(np.stack([obs_env[a] for a in env.agents]), obs_world[0].numpy())
    steps = 0
    while env.agents:
        joint = rng.integers(0, spec.action_nvec, size=(spec.num_agents, len(spec.action_nvec)))
        actions = {f"agent_{i}": joint[i] for i in range(spec.num_agents)}
        if len(spec.action_nvec) == 1:
            actions = {a: int(v[0]) for a, v in actions.items()}
        agents = list(env.agents)
        obs, rew, term, trunc, info = env.step(actions)
        ref = world.step(torch.from_numpy(joint)[None])
        np.testing.assert_allclose([rew[a] for a in agents], ref.reward[0].numpy(), rtol=0, atol=0)
        np.testing.assert_array_equal(np.stack([obs[a] for a in agents]), ref.obs[0].numpy())
        for key, value in ref.info.items():
            np.testing.assert_allclose([info[a][key] for a in agents], value[0].numpy())
        assert all(term[a] == bool(ref.done[0]) for a in agents)
        assert not any(trunc.values())
        steps += 1
    assert steps == spec.horizon
    assert env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})


def test_public_goods_info_and_payoffs():
    """Hand-computed round: N=4, E=20, r=1.6, contributions 20, 10, 0, 5 (levels are units)."""
    env = parallel_env("public_goods", seed=0)
    env.reset()
    _, rew, _, _, info = env.step({"agent_0": 20, "agent_1": 10, "agent_2": 0, "agent_3": 5})
    total = 35.0
    for agent, c in zip(env.possible_agents, (20.0, 10.0, 0.0, 5.0)):
        expected = 20.0 - c + 1.6 / 4 * total
        assert rew[agent] == pytest.approx(expected, rel=1e-6)
        assert info[agent]["contribution"] == pytest.approx(c)
        assert info[agent]["gross"] == pytest.approx(expected, rel=1e-6)
        assert info[agent]["net"] == pytest.approx(expected, rel=1e-6)
        assert info[agent]["round_end"] is True


def test_spaces_and_bad_input():
    env = parallel_env("public_goods_punishment", seed=0)
    space = env.action_space("agent_0")
    assert list(space.nvec) == list(env.world.spec.action_nvec)
    assert env.observation_space("agent_0").shape == (env.world.spec.obs_dim,)
    assert parallel_env("public_goods").action_space("agent_1").n == 21
    with pytest.raises(ValueError, match="agent_9"):
        env.action_space("agent_9")
    env.reset(seed=0)
    acts = {a: space.sample() for a in env.agents}
    acts["agent_2"] = np.array([21, 0, 0, 0])
    with pytest.raises(ValueError, match=r"agent_2.*allowed 0\.\.20"):
        env.step(acts)
    with pytest.raises(ValueError, match="missing"):
        env.step({"agent_0": space.sample()})


def test_seed_controls_stream():
    """Unseeded resets continue the constructor seed's stream, so whole runs repeat."""
    a, b = parallel_env("public_goods", seed=5), parallel_env("public_goods", seed=5)
    for _ in range(3):
        a.reset()
        b.reset()
        assert a.world.gen.initial_seed() == b.world.gen.initial_seed()
    c = parallel_env("public_goods", seed=6)
    c.reset()
    d = parallel_env("public_goods", seed=5)
    d.reset()
    assert c.world.gen.initial_seed() != d.world.gen.initial_seed()
    d.reset(seed=5)
    a.reset(seed=5)
    assert d.world.gen.initial_seed() == a.world.gen.initial_seed()


def test_economy_infos_carry_the_action_mask():
    env = parallel_env("economy_free_market", seed=0)
    _, infos = env.reset(seed=2)
    size = sum(env.world.spec.action_nvec)
    rng = np.random.default_rng(0)
    for _ in range(20):
        expected = env.world.action_mask()[0].numpy()
        actions = {}
        for a in env.agents:
            mask = infos[a]["action_mask"]
            assert mask.dtype == bool and mask.shape == (size,)
            np.testing.assert_array_equal(mask, expected[env._index[a]])
            heads = np.split(mask, np.cumsum(env.world.spec.action_nvec)[:-1])
            actions[a] = np.array([rng.choice(np.flatnonzero(h)) for h in heads])
        _, _, _, _, infos = env.step(actions)
    assert "action_mask" not in parallel_env("public_goods", seed=0).reset()[1]["agent_0"]
