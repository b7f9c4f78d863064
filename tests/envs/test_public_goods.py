"""The batched public-goods world against hand-computed payoffs and its documented observations."""

from __future__ import annotations

import pytest
import torch

from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld, egocentric_to_absolute
from mechanisms import Pipeline
from mechanisms.sanctions import PeerPunishment, PeerPunishmentParams


def make_world(batch: int = 1, pipeline: Pipeline | None = None, **kw) -> PublicGoodsWorld:
    return PublicGoodsWorld(PublicGoodsConfig(**kw), pipeline=pipeline, batch_size=batch)


def levels_action(levels: list[int] | list[list[int]], heads: int = 1) -> torch.Tensor:
    """Contribution levels [N] or [B, N] -> actions [B, N, heads] long."""
    lv = torch.tensor(levels, dtype=torch.long)
    if lv.dim() == 1:
        lv = lv[None]
    out = torch.zeros(*lv.shape, heads, dtype=torch.long)
    out[..., 0] = lv
    return out


def field(world: PublicGoodsWorld, obs: torch.Tensor, name: str) -> torch.Tensor:
    sl = world.spec.obs_fields[name]
    return obs[..., sl].squeeze(-1) if sl.stop - sl.start == 1 else obs[..., sl]


def test_all_cooperate_each_earns_r_times_endowment():
    world = make_world()  # N=4, E=20, r=1.6, 21 levels
    world.reset(seed=0)
    step = world.step(levels_action([20, 20, 20, 20]))
    # pot 80 * 1.6 = 128 shared by 4: each keeps 0 and gets 32
    assert torch.allclose(step.reward, torch.full((1, 4), 32.0))
    assert torch.allclose(step.info["contribution"], torch.full((1, 4), 20.0))
    assert step.round_end


def test_all_free_ride_each_keeps_endowment():
    world = make_world()
    world.reset(seed=0)
    step = world.step(levels_action([0, 0, 0, 0]))
    assert torch.allclose(step.reward, torch.full((1, 4), 20.0))


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        # contributions 20, 20, 20, 0 -> pot 60 * 1.6 / 4 = 24 each
        ([20, 20, 20, 0], [24.0, 24.0, 24.0, 44.0]),
        # contributions 10, 0, 5, 20 -> pot 35 * 0.4 = 14 each
        ([10, 0, 5, 20], [24.0, 34.0, 29.0, 14.0]),
        # one contributor of 20: pot 20 * 0.4 = 8
        ([20, 0, 0, 0], [8.0, 28.0, 28.0, 28.0]),
    ],
)
def test_mixed_groups_match_hand_computation(levels, expected):
    world = make_world()
    world.reset(seed=0)
    step = world.step(levels_action(levels))
    assert torch.allclose(step.reward, torch.tensor([expected]))
    assert torch.allclose(step.info["gross"], step.info["net"])


def test_other_parameters_hand_computed():
    # N=3, E=10, r=2, levels 11 (unit 1): contributions 10, 4, 0 -> pot 14 * 2/3
    world = make_world(num_agents=3, endowment=10.0, multiplier=2.0, levels=11)
    world.reset(seed=0)
    step = world.step(levels_action([10, 4, 0]))
    share = 14 * 2 / 3
    assert torch.allclose(step.reward, torch.tensor([[share, 6 + share, 10 + share]]))


@pytest.mark.parametrize(("levels", "unit"), [(21, 1.0), (5, 5.0), (2, 20.0), (41, 0.5)])
def test_contribution_levels_are_evenly_spaced_from_zero_to_endowment(levels, unit):
    world = make_world(levels=levels)
    assert world.spec.action_nvec[0] == levels
    world.reset(seed=0)
    n = 4
    act = [min(i, levels - 1) for i in range(n)]
    act[-1] = levels - 1  # the top level contributes the whole endowment
    step = world.step(levels_action(act))
    expected = torch.tensor([a * unit for a in act])
    assert torch.allclose(step.info["contribution"][0], expected)
    assert step.info["contribution"][0, -1].item() == pytest.approx(20.0)


def test_episode_has_fixed_horizon_and_lock_step_done():
    world = make_world(batch=3, rounds=5)
    assert world.spec.horizon == 5
    world.reset(seed=1)
    for t in range(5):
        step = world.step(levels_action([[3, 4, 5, 6]] * 3))
        assert step.done.shape == (3,)
        assert bool(step.done.all()) == (t == 4)
        assert not bool(step.done.any()) or t == 4


def random_actions(world: PublicGoodsWorld, gen: torch.Generator) -> torch.Tensor:
    b, n = world.batch_size, world.spec.num_agents
    high = torch.tensor(world.spec.action_nvec)
    u = torch.rand(b, n, len(world.spec.action_nvec), generator=gen)
    return (u * high).long()


def rollout(world: PublicGoodsWorld, seed: int, action_seed: int) -> list[torch.Tensor]:
    obs = world.reset(seed=seed)
    gen = torch.Generator().manual_seed(action_seed)
    out = [obs]
    while True:
        step = world.step(random_actions(world, gen))
        out += [step.obs, step.reward]
        if bool(step.done[0]):
            return out


def test_seeds_reproduce():
    a = rollout(make_world(batch=4), seed=7, action_seed=11)
    b = rollout(make_world(batch=4), seed=7, action_seed=11)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    world = make_world(batch=2)
    world.reset(seed=5)
    g1 = torch.rand(3, generator=world.gen)
    world.reset(seed=5)
    assert torch.equal(g1, torch.rand(3, generator=world.gen))
    world.reset(seed=6)
    assert not torch.equal(g1, torch.rand(3, generator=world.gen))


def _punishment_pipeline(batch: int, n: int = 4) -> Pipeline:
    params = PeerPunishmentParams(cost=1.0, impact=3.0, max_points=4)
    return Pipeline([PeerPunishment(params, n, batch, torch.device("cpu"))])


@pytest.mark.parametrize("punishment", [False, True])
def test_batched_worlds_equal_single_worlds(punishment):
    batch, rounds = 5, 4
    gen = torch.Generator().manual_seed(3)
    big = make_world(
        batch=batch, rounds=rounds, pipeline=_punishment_pipeline(batch) if punishment else None
    )
    smalls = [
        make_world(batch=1, rounds=rounds, pipeline=_punishment_pipeline(1) if punishment else None)
        for _ in range(batch)
    ]
    big_obs = big.reset(seed=0)
    small_obs = [w.reset(seed=0) for w in smalls]
    for _ in range(big.spec.horizon):
        actions = random_actions(big, gen)
        big_step = big.step(actions)
        for i, w in enumerate(smalls):
            s = w.step(actions[i : i + 1])
            assert torch.allclose(s.reward, big_step.reward[i : i + 1])
            assert torch.allclose(s.obs, big_step.obs[i : i + 1])
            for key, value in s.info.items():
                assert torch.allclose(value, big_step.info[key][i : i + 1]), key
            small_obs[i] = s.obs
        big_obs = big_step.obs
    assert torch.allclose(torch.cat(small_obs), big_obs)


def test_observation_fields_hold_last_round():
    world = make_world(batch=2)
    obs = world.reset(seed=0)
    assert field(world, obs, "first_round").eq(1).all()
    assert field(world, obs, "round_progress").eq(0).all()
    assert field(world, obs, "own_last_contribution").eq(0).all()
    step = world.step(levels_action([[20, 10, 0, 5], [0, 0, 0, 20]]))
    obs = step.obs
    c = torch.tensor([[20.0, 10, 0, 5], [0, 0, 0, 20]])
    share = c / 20
    assert torch.allclose(field(world, obs, "own_last_contribution"), share)
    assert field(world, obs, "first_round").eq(0).all()
    assert torch.allclose(field(world, obs, "round_progress"), torch.full((2, 4), 0.1))
    # payoffs normalised by the all-cooperate payoff r * E = 32
    assert torch.allclose(field(world, obs, "own_last_payoff"), step.reward / 32.0)
    # others' mean contribution share, by hand for world 0: agent 0 sees (10 + 0 + 5) / 3 / 20
    others = torch.tensor([[15 / 60, 25 / 60, 35 / 60, 30 / 60], [20 / 60, 20 / 60, 20 / 60, 0.0]])
    assert torch.allclose(field(world, obs, "others_last_mean_contribution"), others)
    # egocentric: agent i sees itself first, then i+1, i+2, ... (mod N)
    ego = field(world, obs, "last_contributions")  # [B, N, N]
    assert ego.shape == (2, 4, 4)
    for i in range(4):
        expected = torch.stack([share[:, (i + k) % 4] for k in range(4)], dim=-1)
        assert torch.allclose(ego[:, i], expected)
    # nothing is pending between rounds of a one-stage world
    assert field(world, obs, "current_contributions").eq(0).all()
    assert field(world, obs, "stage").eq(0).all()


def test_egocentric_to_absolute_maps_next_agent_first():
    points = torch.arange(1, 13).reshape(1, 4, 3)  # agent i -> (i+1, i+2, i+3) mod 4
    out = egocentric_to_absolute(points)
    assert out.shape == (1, 4, 4)
    for i in range(4):
        assert out[0, i, i] == 0
        for k in range(3):
            assert out[0, i, (i + 1 + k) % 4] == points[0, i, k]


def test_two_stage_round_with_peer_punishment():
    world = make_world(batch=1, rounds=3, pipeline=_punishment_pipeline(1))
    n = 4
    assert world.stages == 2
    assert world.spec.horizon == 6  # horizon doubles
    assert world.spec.action_nvec == (21, 5, 5, 5)
    assert world.spec.head_names == ("contribution", "punish_1", "punish_2", "punish_3")
    world.reset(seed=0)
    assert world.active_heads().tolist() == [True, False, False, False]

    # stage 0: contributions only; no reward yet, contributions shown to everyone
    act = levels_action([20, 20, 20, 0], heads=n)
    act[..., 1:] = 4  # punishment heads are ignored in the contribution stage
    s0 = world.step(act)
    assert not s0.round_end
    assert s0.info == {}
    assert torch.equal(s0.reward, torch.zeros(1, n))
    assert not bool(s0.done[0])
    assert world.active_heads().tolist() == [False, True, True, True]
    assert field(world, s0.obs, "stage").eq(1).all()
    assert field(world, s0.obs, "first_round").eq(1).all()
    cur = field(world, s0.obs, "current_contributions")  # egocentric
    assert torch.allclose(cur[0, 0], torch.tensor([1.0, 1.0, 1.0, 0.0]))
    assert torch.allclose(cur[0, 3], torch.tensor([0.0, 1.0, 1.0, 1.0]))

    # stage 1: agent 0 gives 2 points to agent 3 (its third head), agent 1 gives 1 to agent 3
    # (its second head); the contribution head is ignored now
    act = torch.zeros(1, n, n, dtype=torch.long)
    act[..., 0] = 20
    act[0, 0, 3] = 2
    act[0, 1, 2] = 1
    s1 = world.step(act)
    assert s1.round_end
    gross = torch.tensor([[24.0, 24.0, 24.0, 44.0]])
    assert torch.allclose(s1.info["gross"], gross)
    assert torch.allclose(s1.info["contribution"], torch.tensor([[20.0, 20, 20, 0]]))
    # costs 1 per point to the punisher, 3 per point to the target
    expected = gross - torch.tensor([[2.0, 1.0, 0.0, 9.0]])
    assert torch.allclose(s1.reward, expected)
    assert torch.allclose(s1.info["net"], expected)
    assert torch.allclose(s1.info["punishment_given"], torch.tensor([[2.0, 1, 0, 0]]))
    assert torch.allclose(s1.info["punishment_received"], torch.tensor([[0.0, 0, 0, 3]]))
    assert torch.allclose(s1.info["transfer_peer_punishment"], expected - gross)
    flow = s1.flows["peer_punishment"]
    assert flow.external.item() == pytest.approx(-12.0)  # destroyed money
    assert world.active_heads().tolist() == [True, False, False, False]
    assert field(world, s1.obs, "stage").eq(0).all()
    assert field(world, s1.obs, "first_round").eq(0).all()
    assert field(world, s1.obs, "current_contributions").eq(0).all()

    rewards = [s0.reward, s1.reward]
    for t in range(4):
        step = world.step(levels_action([5, 5, 5, 5], heads=n))
        rewards.append(step.reward)
        assert step.round_end == (t % 2 == 1)
        assert bool(step.done[0]) == (t == 3)
    # reward only at round end: stage-0 steps pay nothing
    assert all(r.abs().sum() == 0 for r in rewards[0::2])


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, 4 * 1.6 * 20 * 10),
        ({"num_agents": 3, "endowment": 10.0, "multiplier": 2.0, "rounds": 7}, 3 * 2 * 10 * 7),
    ],
)
def test_social_optimum_is_all_contribute(kw, expected):
    world = make_world(**kw)
    assert world.social_optimum() == pytest.approx(expected)
    # playing it out reaches it exactly
    world.reset(seed=0)
    n, top = world.spec.num_agents, world.spec.action_nvec[0] - 1
    total = 0.0
    for _ in range(world.spec.horizon):
        total += world.step(levels_action([top] * n)).reward.sum().item()
    assert total == pytest.approx(expected)


def test_full_contribution_is_optimal_but_free_riding_dominant():
    # MPCR r/N = 0.4 < 1: whatever the others do, contributing less pays more privately.
    world = make_world()
    for others in ([0, 0, 0], [20, 20, 20], [5, 10, 15]):
        payoffs = []
        for own in range(21):
            world.reset(seed=0)
            payoffs.append(world.step(levels_action([own, *others])).reward[0, 0].item())
        assert payoffs == sorted(payoffs, reverse=True)
        assert payoffs[0] - payoffs[1] == pytest.approx(1 - 0.4, abs=1e-5)


def test_unequal_endowments_per_seat():
    cfg = PublicGoodsConfig(endowment=10.0, endowments=[10.0, 2.0, 2.0, 2.0], levels=11)
    world = PublicGoodsWorld(cfg, batch_size=1)
    st = world.step(torch.tensor([[[10], [10], [0], [5]]]))  # all of 10, all of 2, 0, half of 2
    c = st.info["contribution"][0]
    assert c.tolist() == pytest.approx([10.0, 2.0, 0.0, 1.0])
    share = 1.6 * 13.0 / 4
    assert st.info["gross"][0].tolist() == pytest.approx([share, share, 2.0 + share, 1.0 + share])
    assert world.social_optimum() == pytest.approx(1.6 * 16.0 * cfg.rounds)
    last = st.obs[0, :, world.layout.slices["own_last_contribution"]][:, 0]
    assert last.tolist() == pytest.approx([1.0, 1.0, 0.0, 0.5])  # shares of their own


def test_endowments_must_name_every_seat():
    from coopsim.schema import ConfigError, build

    with pytest.raises(ConfigError, match="one per seat"):
        build(PublicGoodsConfig, {"num_agents": 4, "endowments": [10.0, 2.0]}, prefix="world")


def test_replicate_copies_a_world_into_others():
    world = PublicGoodsWorld(PublicGoodsConfig(), batch_size=3)
    world.reset(seed=0)
    world.step(torch.tensor([[[20]] * 4, [[0]] * 4, [[10]] * 4]))
    obs = world.replicate(torch.tensor([2, 2, 0]))
    assert world.last_contribution[:, 0].tolist() == [10.0, 10.0, 20.0]
    assert torch.equal(obs[0], obs[1]) and not torch.equal(obs[0], obs[2])
    assert PublicGoodsWorld.can_replicate()


def test_observe_shows_rules_set_between_rounds_at_once():
    from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld
    from mechanisms import Pipeline
    from mechanisms.subsidies import MatchingFunds, MatchingParams

    matching = MatchingFunds(MatchingParams(rate=0.0, observed=True), 4, 2, "cpu")
    world = PublicGoodsWorld(PublicGoodsConfig(), Pipeline([matching]), batch_size=2)
    before = world.reset(seed=0)
    matching.set_control("rate", torch.tensor([[1.5], [2.0]]))
    seen = world.observe()[..., world.spec.obs_fields["mechanisms"]]  # [B, N, 1]
    assert before[..., world.spec.obs_fields["mechanisms"]].eq(0).all()
    assert seen[:, :, 0].tolist() == [[1.5] * 4, [2.0] * 4]


def test_outputs_a_caller_keeps_never_change_when_memory_is_reused():
    """Large outputs are written into reused memory (coopsim.envs.buffers): what a caller
    still holds from earlier steps, or a view of it, keeps its values."""
    world = make_world(batch=70_000)  # rewards and infos [B, 4] are 1.1 MB: recycled
    gen = torch.Generator().manual_seed(0)
    kept, copies = [], []
    for t in range(6):
        step = world.step(torch.randint(0, 21, (70_000, 4, 1), generator=gen))
        held = [step.obs, step.reward, *step.info.values()] if t % 2 else [step.obs[5:9]]
        kept.append(held)
        copies.append([h.clone() for h in held])
        del step, held
    for held, copy in zip(kept, copies):
        for h, c in zip(held, copy):
            assert torch.equal(h, c)
    ptrs = {h.data_ptr() for held in kept for h in held[:2]}
    assert len(ptrs) == sum(len(held[:2]) for held in kept)
