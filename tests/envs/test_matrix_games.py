"""Matrix games: payoff tables, the N-player extension, equilibria and the social optimum."""

from __future__ import annotations

import itertools

import pytest
import torch

from coopsim.envs.matrix_games import PRESETS, MatrixGameConfig, MatrixGameWorld
from coopsim.schema import ConfigError, build


def world_for(game: str = "prisoners_dilemma", n: int = 2, **kw) -> MatrixGameWorld:
    return MatrixGameWorld(MatrixGameConfig(game=game, num_agents=n, **kw), batch_size=1)


def payoffs(world: MatrixGameWorld, profile) -> list[float]:
    """Payoff of each agent for a 0/1 profile, through the world's step."""
    world.reset(seed=0)
    act = torch.tensor(profile, dtype=torch.long)[None, :, None]
    return world.step(act).reward[0].tolist()


@pytest.mark.parametrize(
    ("game", "rstp"),
    [
        ("prisoners_dilemma", (3.0, 0.0, 5.0, 1.0)),
        ("stag_hunt", (4.0, 0.0, 3.0, 3.0)),
        ("chicken", (3.0, 1.0, 4.0, 0.0)),
    ],
)
def test_two_player_tables(game, rstp):
    r, s, t, p = rstp
    assert PRESETS[game] == rstp
    world = world_for(game)
    assert payoffs(world, [1, 1]) == [r, r]
    assert payoffs(world, [1, 0]) == [s, t]
    assert payoffs(world, [0, 1]) == [t, s]
    assert payoffs(world, [0, 0]) == [p, p]


def test_dilemma_orderings():
    r, s, t, p = PRESETS["prisoners_dilemma"]
    assert t > r > p > s and 2 * r > t + s
    r, s, t, p = PRESETS["stag_hunt"]
    assert r > t >= p > s
    r, s, t, p = PRESETS["chicken"]
    assert t > r > s > p


@pytest.mark.parametrize("game", list(PRESETS))
@pytest.mark.parametrize("n", [3, 4, 7])
def test_n_player_linear_extension(game, n):
    r, s, t, p = PRESETS[game]
    coop, defect = MatrixGameConfig(game=game, num_agents=n).payoff_tables()
    assert len(coop) == len(defect) == n
    for k in range(n):
        x = k / (n - 1)
        assert coop[k] == pytest.approx(s + (r - s) * x)
        assert defect[k] == pytest.approx(p + (t - p) * x)
    # endpoints are the 2-player table: no other cooperator -> (S, P), all others -> (R, T)
    assert (coop[0], coop[-1], defect[0], defect[-1]) == pytest.approx((s, r, p, t))
    # and the world pays by the number of *other* cooperators
    world = world_for(game, n)
    for k in range(n + 1):
        profile = [1] * k + [0] * (n - k)
        got = payoffs(world, profile)
        for i in range(n):
            others = k - profile[i]
            assert got[i] == pytest.approx(coop[others] if profile[i] else defect[others])


def test_custom_table():
    cfg = MatrixGameConfig(game="custom", num_agents=3, cooperate=[0, 2, 7], defect=[1, 3, 4])
    world = MatrixGameWorld(cfg, batch_size=2)
    world.reset(seed=0)
    act = torch.tensor([[1, 1, 0], [1, 0, 0]])[..., None]
    step = world.step(act)
    # world 0: cooperators see 1 other cooperator -> 2; the defector sees 2 -> 4
    # world 1: the cooperator sees none -> 0; the defectors see 1 -> 3
    assert step.reward.tolist() == [[2.0, 2.0, 4.0], [0.0, 3.0, 3.0]]
    assert world.social_optimum() == pytest.approx(max(0 + 3, 1 * 0 + 2 * 3, 2 * 2 + 4, 21) * 10)


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "matrix_game", "game": "custom", "num_agents": 3, "cooperate": [0, 1, 2]},
        {
            "kind": "matrix_game",
            "game": "custom",
            "num_agents": 3,
            "cooperate": [0, 1],
            "defect": [0, 1, 2],
        },
        {"kind": "matrix_game", "game": "stag_hunt", "cooperate": [0, 1]},
    ],
)
def test_custom_table_validation(data):
    with pytest.raises(ConfigError) as err:
        build(MatrixGameConfig, data, source="x.toml", prefix="world")
    assert "x.toml" in str(err.value) and "world" in str(err.value)


def _tables(game: str, n: int):
    return MatrixGameConfig(game=game, num_agents=n).payoff_tables()


def _is_nash(game: str, n: int, cooperators: int) -> bool:
    """No agent gains by switching alone, with ``cooperators`` of n cooperating."""
    coop, defect = _tables(game, n)
    if cooperators > 0 and defect[cooperators - 1] > coop[cooperators - 1] + 1e-12:
        return False  # a cooperator would rather defect
    return not (cooperators < n and coop[cooperators] > defect[cooperators] + 1e-12)


@pytest.mark.parametrize("n", [2, 3, 4, 6, 10])
def test_defection_dominant_in_prisoners_dilemma(n):
    coop, defect = _tables("prisoners_dilemma", n)
    for k in range(n):
        assert defect[k] > coop[k]
    # and all-defect is the only equilibrium while all-cooperate beats it for everyone
    assert [_is_nash("prisoners_dilemma", n, k) for k in range(n + 1)] == [True] + [False] * n
    assert coop[n - 1] > defect[0]


@pytest.mark.parametrize("n", [2, 3, 4, 6, 10])
def test_stag_hunt_has_two_pure_equilibria(n):
    assert _is_nash("stag_hunt", n, n)  # all stag
    assert _is_nash("stag_hunt", n, 0)  # all hare
    coop, defect = _tables("stag_hunt", n)
    assert coop[n - 1] > defect[0]  # the stag equilibrium pays more (payoff dominant)
    # check by brute force with the world: no unilateral deviation pays from either profile
    world = world_for("stag_hunt", n)
    for base in ([1] * n, [0] * n):
        here = payoffs(world, base)
        for i in range(n):
            dev = list(base)
            dev[i] = 1 - dev[i]
            assert payoffs(world, dev)[i] <= here[i]


@pytest.mark.parametrize("n", [2, 3, 4, 5, 8])
def test_chicken_equilibria_are_asymmetric(n):
    eq = [k for k in range(n + 1) if _is_nash("chicken", n, k)]
    assert eq, "chicken has a pure equilibrium"
    assert 0 not in eq and n not in eq  # never everyone alike
    if n == 2:
        assert eq == [1]
        world = world_for("chicken", 2)
        for profile in ([1, 0], [0, 1]):
            here = payoffs(world, profile)
            for i in range(2):
                dev = list(profile)
                dev[i] = 1 - dev[i]
                assert payoffs(world, dev)[i] <= here[i]
        for profile in ([1, 1], [0, 0]):
            here = payoffs(world, profile)
            assert any(
                payoffs(world, [1 - a if j == i else a for j, a in enumerate(profile)])[i] > here[i]
                for i in range(2)
            )


@pytest.mark.parametrize(
    ("game", "n", "per_round"),
    [
        ("prisoners_dilemma", 2, 6.0),  # both cooperate: 3 + 3
        ("stag_hunt", 2, 8.0),
        ("chicken", 2, 6.0),  # 3 + 3 beats 4 + 1
        ("prisoners_dilemma", 4, 12.0),
        ("stag_hunt", 4, 16.0),
    ],
)
def test_social_optimum(game, n, per_round):
    world = world_for(game, n, rounds=5)
    assert world.social_optimum() == pytest.approx(per_round * 5)
    # brute force over all profiles
    best = max(sum(payoffs(world, list(p))) for p in itertools.product([0, 1], repeat=n))
    assert best == pytest.approx(per_round)


def test_world_shapes_and_observation():
    world = MatrixGameWorld(MatrixGameConfig(num_agents=3, rounds=4), batch_size=2)
    assert world.spec.action_nvec == (2,)
    obs = world.reset(seed=0)
    assert obs.shape == (2, 3, world.spec.obs_dim)
    step = world.step(torch.tensor([[1, 0, 1], [0, 0, 0]])[..., None])
    sl = world.spec.obs_fields
    own = step.obs[..., sl["own_last_contribution"]].squeeze(-1)
    assert own.tolist() == [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    others = step.obs[..., sl["others_last_mean_contribution"]].squeeze(-1)
    assert others.tolist() == [[0.5, 1.0, 0.5], [0.0, 0.0, 0.0]]
    assert step.info["contribution"].tolist() == own.tolist()
    for t in range(3):
        step = world.step(torch.zeros(2, 3, 1, dtype=torch.long))
        assert bool(step.done.all()) == (t == 2)
