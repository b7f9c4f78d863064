"""The native TorchRL environment: specs, agreement with the batched world, and MAPPO learning."""

from __future__ import annotations

import pytest
import torch
from tensordict.nn import TensorDictModule
from torch.distributions import Categorical
from torchrl.collectors import Collector
from torchrl.envs.utils import check_env_specs
from torchrl.modules import MultiAgentMLP, ProbabilisticActor
from torchrl.objectives import ClipPPOLoss, ValueEstimators

from coopsim import builder
from coopsim import scenario as sc
from coopsim.adapters.torchrl import torchrl_env

SCENARIOS = [
    ("public_goods_learning", "learning"),
    ("prisoners_dilemma_learning", "learning"),
    ("public_goods_punishment", "all"),
    ("economy_free_market", "learning"),
    ("tax_one_step_saez", "learning"),
]


@pytest.mark.parametrize(("name", "seats"), SCENARIOS)
def test_check_env_specs(name, seats):
    env = torchrl_env(name, num_worlds=3, seats=seats, seed=0)
    check_env_specs(env, seed=1)
    td = env.rollout(2)  # stops at done: one step in a one-step world
    t = td.shape[1]
    obs = td["agents", "observation"]
    spec = env.observation_spec["agents", "observation"]
    assert obs.shape == (3, t, len(env.agent_names), env.world.spec.obs_dim)
    assert ((obs >= spec.space.low[:, None]) & (obs <= spec.space.high[:, None])).all()
    assert td["state"].shape == (3, t, env.world.spec.num_agents * env.world.spec.obs_dim)


def test_learning_seats_only_and_tit_for_tat_inside():
    """The PD learner is the only agent; tit-for-tat answers its defection from round 2."""
    env = torchrl_env("prisoners_dilemma_learning", num_worlds=2, seed=0)
    assert env.agent_names == ["agent_0"]
    td = env.reset()
    for _ in range(3):
        td["agents", "action"] = torch.zeros(2, 1, dtype=torch.long)  # always defect
        td = env.step(td)["next"]
    # defect against a defecting tit-for-tat pays P = 1 (round 1 paid T = 5)
    assert td["agents", "info", "gross"].flatten().tolist() == [1.0, 1.0]
    assert len(torchrl_env("prisoners_dilemma_learning", seats="all").agent_names) == 2


def test_matches_batched_world():
    scenario = sc.load("public_goods_learning")
    env = torchrl_env(scenario, num_worlds=4, seats="all", seed=3)
    world = builder.make_world(scenario, batch_size=4)
    td = env.reset()
    gen = torch.Generator().manual_seed(0)
    obs = world.reset(seed=0)
    assert td["agents", "observation"].shape == obs.shape
    for _ in range(world.spec.horizon):
        act = torch.randint(0, 21, (4, 4), generator=gen)
        td["agents", "action"] = act
        out = env.step(td)["next"]
        ref = world.step(act[..., None])
        torch.testing.assert_close(out["agents", "reward"][..., 0], ref.reward)
        torch.testing.assert_close(out["agents", "info", "net"], ref.info["net"])
        td = out
    assert bool(td["done"].all())


@pytest.mark.slow
def test_mappo_learns_to_free_ride():
    """TorchRL's multi-agent PPO recipe (MAPPO: shared actor, centralised critic) on public
    goods drives the greedy contribution down, as the dilemma's dominant strategy says."""
    torch.manual_seed(0)
    env = torchrl_env("public_goods_learning", num_worlds=128, seed=0)
    m, obs_dim, levels = len(env.agent_names), env.world.spec.obs_dim, env.world.spec.action_nvec[0]
    actor_net = MultiAgentMLP(obs_dim, levels, m, centralised=False, share_params=True, depth=2)
    actor = ProbabilisticActor(
        TensorDictModule(actor_net, [("agents", "observation")], [("agents", "logits")]),
        in_keys=[("agents", "logits")],
        out_keys=[("agents", "action")],
        distribution_class=Categorical,
        return_log_prob=True,
        log_prob_key=("agents", "sample_log_prob"),
    )
    critic_net = MultiAgentMLP(obs_dim, 1, m, centralised=True, share_params=True, depth=2)
    critic = TensorDictModule(critic_net, [("agents", "observation")], [("agents", "state_value")])
    loss = ClipPPOLoss(actor, critic, clip_epsilon=0.2, entropy_coeff=0.01)
    loss.set_keys(
        reward=("agents", "reward"),
        action=("agents", "action"),
        sample_log_prob=("agents", "sample_log_prob"),
        value=("agents", "state_value"),
        done=("agents", "done"),
        terminated=("agents", "terminated"),
    )
    loss.make_value_estimator(ValueEstimators.GAE, gamma=0.9, lmbda=0.95)
    optim = torch.optim.Adam(loss.parameters(), lr=3e-3)
    frames = 128 * 10
    collector = Collector(
        env,
        actor,
        frames_per_batch=frames,
        total_frames=frames * 25,
        auto_register_policy_transforms=False,
    )

    def greedy_contribution() -> float:
        td = env.reset()
        with torch.no_grad():
            logits = actor_net(td["agents", "observation"])
        return float(logits.argmax(-1).float().mean() / (levels - 1))

    before = greedy_contribution()
    for batch in collector:
        batch["next", "agents", "reward"] = batch["next", "agents", "reward"] / 20
        with torch.no_grad():
            loss.value_estimator(
                batch,
                params=loss.critic_network_params,
                target_params=loss.target_critic_network_params,
            )
        flat = batch.reshape(-1)
        for _ in range(4):
            for idx in torch.randperm(flat.shape[0]).split(256):
                parts = loss(flat[idx])
                total = parts["loss_objective"] + parts["loss_critic"] + parts["loss_entropy"]
                optim.zero_grad()
                total.backward()
                torch.nn.utils.clip_grad_norm_(loss.parameters(), 1.0)
                optim.step()
        collector.update_policy_weights_()
    collector.shutdown()
    after = greedy_contribution()
    print(f"greedy contribution {before:.2f} -> {after:.2f}")
    assert after < 0.1 < before
