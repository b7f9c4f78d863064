"""PPO: the pieces against hand-computed values, then learning verified by learning."""

from __future__ import annotations

import time

import pytest
import torch

from coopsim import scenario as sc
from coopsim.agents.ppo import (
    ActorCritic,
    ConvMapEncoder,
    LinearMapEncoder,
    PPOConfig,
    PPOLearner,
    Rollout,
    entropy_coef,
    log_prob,
    log_prob_entropy,
)
from coopsim.envs.base import WorldSpec
from coopsim.evaluate import evaluate
from coopsim.train import Trainer


def spec(**kw) -> WorldSpec:
    base = dict(num_agents=2, obs_dim=3, action_nvec=(3, 2), horizon=2)
    return WorldSpec(**{**base, **kw})


def test_gae_matches_hand_computation():
    cfg = PPOConfig(gamma=0.5, gae_lambda=0.5)
    learner = PPOLearner(spec(), 1, cfg)
    # T = 2, B = 1, n = 1; episode ends after the second step.
    ro = Rollout(
        obs=torch.zeros(2, 1, 1, 3),
        actions=torch.zeros(2, 1, 1, 2, dtype=torch.long),
        logp=torch.zeros(2, 1, 1),
        values=torch.tensor([1.0, 2.0]).reshape(2, 1, 1),
        rewards=torch.tensor([1.0, 3.0]).reshape(2, 1, 1),
        dones=torch.tensor([[0.0], [1.0]]),
        active=torch.ones(2, 2, dtype=torch.bool),
        next_value=torch.tensor([[10.0]]),
    )
    adv, ret = learner.advantages(ro)
    delta1 = 3.0 - 2.0  # terminal: no bootstrap from next_value
    delta0 = 1.0 + 0.5 * 2.0 - 1.0
    assert adv[1, 0, 0].item() == pytest.approx(delta1)
    assert adv[0, 0, 0].item() == pytest.approx(delta0 + 0.25 * delta1)
    assert torch.allclose(ret, adv + ro.values)


def test_inactive_heads_add_no_log_prob_or_entropy():
    logits = [torch.tensor([[0.0, 1.0, 2.0]]), torch.tensor([[0.0, 0.0]])]
    actions = torch.tensor([[2, 1]])
    lp_all, ent_all = log_prob_entropy(logits, actions, torch.tensor([True, True]))
    lp_first, ent_first = log_prob_entropy(logits, actions, torch.tensor([True, False]))
    p = torch.softmax(logits[0][0], -1)
    assert lp_first.item() == pytest.approx(float(torch.log(p[2])))
    assert lp_all.item() == pytest.approx(float(torch.log(p[2]) + torch.log(torch.tensor(0.5))))
    assert ent_first.item() == pytest.approx(float(-(p * p.log()).sum()))
    assert ent_all.item() == pytest.approx(ent_first.item() + float(torch.log(torch.tensor(2.0))))


def test_acting_log_probs_are_the_updates_to_the_bit():
    """The update's ratio starts at exactly 1 only if acting summed the same log-probs."""
    gen = torch.Generator().manual_seed(0)
    logits = [torch.randn(50, 4, 7, generator=gen), torch.randn(50, 4, 11, generator=gen)]
    actions = torch.stack([lg.argmax(-1) for lg in logits], -1)
    for active in (torch.tensor([True, True]), torch.tensor([False, True])):
        full, _ = log_prob_entropy(logits, actions, active)
        assert torch.equal(log_prob(logits, actions, active), full)


@pytest.mark.parametrize(
    ("encoder", "kind", "features"),
    [("conv", ConvMapEncoder, 16 * 2 * 2), ("linear", LinearMapEncoder, 64)],
)
def test_encoder_follows_the_spec_and_seats_differ(encoder, kind, features):
    config = PPOConfig(hidden=8, map_encoder=encoder)
    net = ActorCritic(spec(), num_seats=2, config=config)
    assert net.trunk is None
    fields = {"map": slice(0, 2 * 3 * 3), "x": slice(18, 20)}
    image = spec(obs_dim=20, obs_fields=fields, map_shape=(2, 3, 3))
    net = ActorCritic(image, num_seats=2, config=config)
    assert isinstance(net.trunk, kind)
    assert net.trunk.out_dim == features + 2  # the map's features and the two other columns
    logits, value = net(torch.randn(5, 2, 20))
    assert [lg.shape for lg in logits] == [(5, 2, 3), (5, 2, 2)] and value.shape == (5, 2)
    # Same observation in both seats: the seat one-hot still lets the values differ.
    _, v = net(torch.ones(1, 2, 20))
    assert v[0, 0].item() != v[0, 1].item()
    # The map's features read the map field only: the other columns pass through as they are.
    obs = torch.randn(3, 20)
    changed = obs.clone()
    changed[:, 18:] += 1.0
    assert torch.equal(net.trunk(obs)[:, :features], net.trunk(changed)[:, :features])
    assert torch.equal(net.trunk(changed)[:, features:], changed[:, 18:])


def test_bfloat16_map_layer_is_the_float32_layer_to_bfloat16_precision():
    fields = {"map": slice(0, 2 * 3 * 3), "x": slice(18, 20)}
    image = spec(obs_dim=20, obs_fields=fields, map_shape=(2, 3, 3))
    torch.manual_seed(0)
    exact = LinearMapEncoder(image, 16)
    torch.manual_seed(0)
    half = LinearMapEncoder(image, 16, precision="bfloat16")
    assert half.low_precision and not exact.low_precision
    gen = torch.Generator().manual_seed(1)
    obs = torch.cat([(torch.rand(64, 18, generator=gen) < 0.3).float(), torch.randn(64, 2)], -1)
    z, zh = exact(obs), half(obs)
    assert zh.dtype == torch.float32 and zh.shape == z.shape == (64, 16 + 2)
    assert torch.equal(zh[:, 16:], obs[:, 18:])  # the other columns pass through untouched
    # 0/1 windows are exact in bfloat16: only the weights' rounding (8 bits) is lost
    assert not torch.equal(zh, z)
    assert torch.allclose(zh, z, rtol=0, atol=0.02 * z.abs().max().item())
    z[:, :16].sum().backward()
    zh[:, :16].sum().backward()
    for p, ph in zip(exact.parameters(), half.parameters()):
        assert ph.dtype == torch.float32 and ph.grad.dtype == torch.float32
        assert torch.allclose(ph.grad, p.grad, rtol=0.02, atol=0.02 * float(p.grad.abs().max()))


def test_bfloat16_is_refused_for_the_conv_encoder():
    from coopsim.schema import ConfigError

    image = spec(obs_dim=18, obs_fields={"map": slice(0, 18)}, map_shape=(2, 3, 3))
    config = PPOConfig(map_encoder="conv", map_precision="bfloat16")
    with pytest.raises(ConfigError, match=r"training\.map_precision: .*map_encoder = 'linear'"):
        ActorCritic(image, num_seats=2, config=config)


def test_masked_choices_are_never_sampled_and_the_update_sees_the_same_mask():
    learner = PPOLearner(spec(), 2, PPOConfig(num_minibatches=1, update_epochs=1), seed=3)
    obs = torch.randn(64, 2, 3)
    mask = torch.ones(64, 2, 5, dtype=torch.bool)
    mask[:, 0, 0] = False  # seat 0 may not choose 0 in head 0
    mask[:, 1, 3] = False  # seat 1 must choose 1 in head 1
    actions, logp, values = learner.step(obs, mask)
    assert (actions[:, 0, 0] != 0).all() and (actions[:, 1, 1] == 1).all()
    logits, _ = learner.forward(obs, mask)
    assert torch.allclose(logits[1][:, 1].softmax(-1)[:, 1], torch.ones(64))
    ro = Rollout(
        obs=obs[None],
        actions=actions[None],
        logp=logp[None],
        values=values[None],
        rewards=torch.randn(1, 64, 2),
        dones=torch.ones(1, 64),
        active=torch.ones(1, 2, dtype=torch.bool),
        next_value=torch.zeros(64, 2),
        mask=mask[None],
    )
    stats = learner.update(ro, 0.0)
    assert abs(stats["approx_kl"]) < 1e-6  # one minibatch, one epoch: ratio 1 at the start
    # Near-uniform initial logits: entropy log 3 + log 2 = 1.79 unmasked; under the mask
    # seat 0 has log 2 + log 2 = 1.39 and seat 1 log 3 + 0 = 1.10, mean 1.24.
    assert stats["entropy"] == pytest.approx(1.24, abs=0.02)


def test_entropy_schedule_is_linear():
    cfg = PPOConfig(ent_coef=0.1, ent_coef_final=0.0)
    assert entropy_coef(cfg, 0, 11) == pytest.approx(0.1)
    assert entropy_coef(cfg, 5, 11) == pytest.approx(0.05)
    assert entropy_coef(cfg, 10, 11) == pytest.approx(0.0)


def test_same_seed_same_training():
    scenario = sc.load("prisoners_dilemma_learning")
    scenario.training.num_worlds = 8
    rows = [Trainer(scenario, iterations=2, seed=3).train() for _ in range(2)]
    strip = [[{k: v for k, v in r.items() if k != "seconds"} for r in run] for run in rows]
    assert strip[0] == strip[1]
    other = Trainer(scenario, iterations=2, seed=4).train()
    assert other[-1]["agents_policy_loss"] != rows[0][-1]["agents_policy_loss"]


def learned_contribution(name: str, iterations: int) -> tuple[float, float]:
    """Train the scenario, evaluate the learners; (learners' contribution share, seconds)."""
    start = time.perf_counter()
    scenario = sc.load(name)
    trainer = Trainer(scenario, iterations=iterations)
    trainer.train()
    result = evaluate(scenario, population=trainer.population, episodes=64)
    frame = result.episodes
    learners = frame[frame["policy"] == "ppo"]
    endowment = getattr(scenario.world, "endowment", 1.0)
    return float((learners["contribution"] / endowment).mean()), time.perf_counter() - start


@pytest.mark.slow
def test_public_goods_learners_free_ride():
    rate, seconds = learned_contribution("public_goods_learning", 25)
    print(f"public goods MPCR 0.4: learned contribution rate {rate:.3f} in {seconds:.1f} s")
    assert rate < 0.10


@pytest.mark.slow
def test_public_goods_learners_contribute_under_matching():
    rate, seconds = learned_contribution("public_goods_learning_matching", 25)
    print(f"public goods with matching: learned contribution rate {rate:.3f} in {seconds:.1f} s")
    assert rate > 0.90


@pytest.mark.slow
def test_prisoners_dilemma_learner_cooperates_with_tit_for_tat():
    rate, seconds = learned_contribution("prisoners_dilemma_learning", 25)
    print(f"IPD vs tit-for-tat: learner cooperates on {rate:.3f} of rounds in {seconds:.1f} s")
    assert rate > 0.90
