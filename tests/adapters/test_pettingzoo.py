"""The PettingZoo adapter passes PettingZoo's own API and seed tests on every scenario, with no
warnings, and works under SuperSuit's wrappers and Stable-Baselines3."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import supersuit as ss
import torch
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test
from pettingzoo.utils.conversions import parallel_to_aec

from coopsim import builder
from coopsim import scenario as sc
from coopsim.adapters.pettingzoo import parallel_env

SCENARIOS = sorted(sc.list_scenarios())
# PettingZoo's AEC api_test advises Box or Discrete action spaces; MultiDiscrete is valid
# Gymnasium, and actions="discrete" offers the flat alternative, which is tested unfiltered.
MULTI_DISCRETE_ADVICE = "Action space for each agent probably should be"


def seats_of(name: str) -> str:
    """Scenarios with learners expose their learning seats; all-scripted ones every seat."""
    return "learning" if any(g.policy in sc.LEARNERS for g in sc.load(name).population) else "all"


def test_scenarios_found():
    assert SCENARIOS, "no scenario files found"


@pytest.mark.parametrize("name", SCENARIOS)
def test_api_and_seed_tests_without_warnings(name):
    """parallel_api_test, parallel_seed_test, and through parallel_to_aec api_test and
    seed_test, with every warning an error."""
    seats = seats_of(name)
    horizon = parallel_env(name, seats=seats).world.spec.horizon
    cycles = min(3 * horizon, 250)
    # Through the end of an episode and into the next at least once, three times for short
    # ones: 1000-step episodes (the paper economy) gain nothing from 3000 cycles but time.
    api_cycles = min(3 * horizon, max(600, horizon + 100))
    multi_head = len(parallel_env(name, seats=seats).world.spec.action_nvec) > 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(parallel_env(name, seed=0, seats=seats), num_cycles=api_cycles)
        parallel_seed_test(lambda: parallel_env(name, seats=seats), num_cycles=cycles)
        for actions in ("multi_discrete", "discrete") if multi_head else ("multi_discrete",):
            with warnings.catch_warnings():
                if actions == "multi_discrete" and multi_head:
                    warnings.filterwarnings("ignore", message=MULTI_DISCRETE_ADVICE)
                env = parallel_env(name, seed=0, seats=seats, actions=actions)
                api_test(parallel_to_aec(env), num_cycles=cycles)
                seed_test(
                    lambda a=actions: parallel_to_aec(parallel_env(name, seats=seats, actions=a)),
                    num_cycles=cycles,
                )


@pytest.mark.parametrize("name", SCENARIOS)
def test_observations_and_state_stay_in_their_bounds(name):
    """Random play for an episode: every observation and the state lie in their finite Boxes."""
    env = parallel_env(name, seed=0, seats="all")
    obs, infos = env.reset(seed=1)
    assert env.agents == [f"agent_{i}" for i in range(env.world.spec.num_agents)]
    space = env.observation_space("agent_0")
    assert np.isfinite(space.low).all() and np.isfinite(space.high).all()
    assert env.state_space.shape == (env.world.spec.num_agents * env.world.spec.obs_dim,)
    for _ in range(min(env.world.spec.horizon, 120)):
        for agent in env.agents:
            assert space.contains(obs[agent]), agent
        assert env.state_space.contains(env.state())
        np.testing.assert_array_equal(env.state()[: space.shape[0]], obs["agent_0"])
        acts = {a: env.action_space(a).sample(infos[a]["action_mask"]) for a in env.agents}
        obs, _, _, _, infos = env.step(acts)
        if not env.agents:
            break


@pytest.mark.parametrize("name", SCENARIOS)
def test_matches_batched_world(name):
    """Fixed actions give the adapter the batched world's rewards, obs and info at B=1."""
    scenario = sc.load(name)
    env = parallel_env(scenario, seed=3, seats="all")
    world = builder.make_world(scenario, batch_size=1)
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
    env = parallel_env("public_goods", seed=0, seats="all")
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
    env = parallel_env("public_goods_punishment", seed=0, seats="all")
    space = env.action_space("agent_0")
    assert list(space.nvec) == list(env.world.spec.action_nvec)
    assert env.observation_space("agent_0").shape == (env.world.spec.obs_dim,)
    assert parallel_env("public_goods", seats="all").action_space("agent_1").n == 21
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
    a, b = (
        parallel_env("public_goods_learning", seed=5),
        parallel_env("public_goods_learning", seed=5),
    )
    for _ in range(3):
        a.reset()
        b.reset()
        assert a.world.gen.initial_seed() == b.world.gen.initial_seed()
    c = parallel_env("public_goods_learning", seed=6)
    c.reset()
    d = parallel_env("public_goods_learning", seed=5)
    d.reset()
    assert c.world.gen.initial_seed() != d.world.gen.initial_seed()
    d.reset(seed=5)
    a.reset(seed=5)
    assert d.world.gen.initial_seed() == a.world.gen.initial_seed()


def test_economy_masks_in_gymnasium_format():
    """A tuple of int8 arrays, one per head, equal to the world's mask; usable by sample()."""
    env = parallel_env("economy_free_market", seed=0)
    _, infos = env.reset(seed=2)
    nvec = env.world.spec.action_nvec
    for _ in range(20):
        expected = env.world.action_mask()[0].numpy()
        actions = {}
        for a in env.agents:
            mask = infos[a]["action_mask"]
            assert isinstance(mask, tuple) and [m.shape for m in mask] == [(k,) for k in nvec]
            assert all(m.dtype == np.int8 for m in mask)
            np.testing.assert_array_equal(np.concatenate(mask), expected[env._index[a]])
            actions[a] = env.action_space(a).sample(mask)
            assert all(m[c] == 1 for m, c in zip(mask, actions[a]))
        _, _, _, _, infos = env.step(actions)
    flat = parallel_env("economy_free_market", seed=0, actions="discrete")
    _, infos = flat.reset(seed=2)
    mask = infos["agent_0"]["action_mask"]
    assert mask.shape == (int(np.prod(nvec)),) and mask.dtype == np.int8
    heads = np.split(flat.world.action_mask()[0, 0].numpy(), np.cumsum(nvec)[:-1])
    assert mask.sum() == np.prod([h.sum() for h in heads])
    pg = parallel_env("public_goods_learning", seed=0).reset()[1]["agent_0"]["action_mask"]
    assert pg.dtype == np.int8 and pg.shape == (21,) and pg.all()


@pytest.mark.parametrize("name", ["public_goods_punishment", "economy_free_market"])
def test_reset_info_has_the_step_keys(name):
    env = parallel_env(name, seed=0, seats="all")
    _, reset_infos = env.reset(seed=0)
    keys = set(reset_infos["agent_0"])
    assert {"net", "gross", "round_end", "action_mask"} <= keys
    for _ in range(3):
        acts = {a: env.action_space(a).sample() for a in env.agents}
        _, _, _, _, infos = env.step(acts)
        assert set(infos["agent_0"]) == keys


def test_learning_seats_play_the_scripted_ones():
    """prisoners_dilemma_learning: one agent; the scenario's tit-for-tat plays inside."""
    env = parallel_env("prisoners_dilemma_learning", seed=0)
    assert env.possible_agents == ["agent_0"]
    env.reset(seed=0)
    paid = [env.step({"agent_0": 0})[1]["agent_0"] for _ in range(3)]  # always defect
    assert paid == [5.0, 1.0, 1.0]  # T against tit-for-tat's opening cooperation, then P
    env.reset(seed=0)
    paid = [env.step({"agent_0": 1})[1]["agent_0"] for _ in range(3)]
    assert paid == [3.0, 3.0, 3.0]
    assert parallel_env("prisoners_dilemma_learning", seats="all").possible_agents == [
        "agent_0",
        "agent_1",
    ]
    with pytest.raises(ValueError, match="seats='all'"):
        parallel_env("public_goods")
    with pytest.raises(ValueError, match="seats: got 'some'"):
        parallel_env("public_goods", seats="some")


@pytest.mark.parametrize(
    ("name", "shape"),
    [("public_goods", None), ("tax_one_step_saez", None), ("economy_free_market", (200, 200, 3))],
)
def test_rgb_array(name, shape):
    env = parallel_env(name, seed=0, render_mode="rgb_array", seats="all")
    env.reset(seed=0)
    env.step({a: env.action_space(a).sample() for a in env.agents})
    image = env.render()
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3
    assert image.shape[2] == 3 and image.std() > 0
    if shape is not None:
        assert image.shape == shape


def test_human_prints_once_per_render_never_on_step(capsys):
    env = parallel_env("public_goods", seed=0, render_mode="human", seats="all")
    env.reset(seed=0)
    env.step({a: 0 for a in env.agents})
    assert capsys.readouterr().out == ""
    env.render()
    out = capsys.readouterr().out
    assert out.count("public_goods t=1/10") == 1 and "agent_3" in out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["public_goods_learning", "prisoners_dilemma_learning"])
def test_supersuit_and_sb3_smoke(name, tmp_path, monkeypatch):
    """PettingZoo -> SuperSuit's common wrappers -> SB3 PPO for a few thousand steps."""
    import tempfile

    from stable_baselines3 import PPO

    # SB3's default logger makes an empty SB3-<date> folder in the temp directory on each
    # learn(); keep it in the test's own folder.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    env = parallel_env(name, seed=0)
    env = ss.normalize_obs_v0(ss.dtype_v0(env, np.float32))  # needs finite Box bounds
    vec = ss.pettingzoo_env_to_vec_env_v1(env)
    vec = ss.concat_vec_envs_v1(vec, 2, num_cpus=0, base_class="stable_baselines3")
    torch.manual_seed(0)  # PPO(seed=...) would call vec.seed(), which ConcatVecEnv lacks
    model = PPO("MlpPolicy", vec, n_steps=256, batch_size=128, n_epochs=2, device="cpu")
    model.learn(total_timesteps=2048)
    obs = vec.reset()
    action, _ = model.predict(obs, deterministic=True)
    assert action.shape[0] == vec.num_envs
    vec.close()


def test_docs_name_the_scenarios_whose_api_test_advises_box_or_discrete():
    """The docs' PettingZoo paragraph (docs/integrations.md) names (or globs) exactly the multi-head scenarios."""
    import fnmatch
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "integrations.md").read_text()
    paragraph = page[page.index("Worlds with several action heads") :]
    paragraph = paragraph[: paragraph.index("Only the scenario's learning")]
    patterns = re.findall(r"`([a-z_*]+)`", paragraph)
    named = {n for n in SCENARIOS if any(fnmatch.fnmatch(n, p) for p in patterns)}
    multi_head = {
        n for n in SCENARIOS if len(parallel_env(n, seats="all").world.spec.action_nvec) > 1
    }
    assert named == multi_head
