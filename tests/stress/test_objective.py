"""The robust objectives across training populations (``[planner] robust_objective``):
aggregates against hand-computed values, the reward weights that carry them to PPO, the
schema's errors, and the mixture trainer paying only the worst population's worlds."""

from __future__ import annotations

import pytest
import tomllib
import torch

from coopsim import scenario as sc
from coopsim.schema import ConfigError
from coopsim.stress.objective import aggregate, reward_weights, robust_rewards, tail_weights
from coopsim.stress.robust import MixtureTrainer

# Six worlds of three populations (a fourth, index 3, is absent): population means 1.5, 6.5,
# 12.5; the mean over worlds 41 / 6.
OBJECTIVE = torch.tensor([1.0, 2.0, 3.0, 10.0, 20.0, 5.0])
POPULATION = torch.tensor([0, 0, 1, 1, 2, 2])


@pytest.mark.parametrize(
    ("kind", "alpha", "expected"),
    [
        ("mean", None, 41 / 6),
        ("worst", None, 1.5),
        ("cvar", 2 / 3, (1.5 + 6.5) / 2),  # the worst two of three
        ("cvar", 0.5, 2 / 3 * 1.5 + 1 / 3 * 6.5),  # the worst, and half the next
        ("cvar", 1.0, (1.5 + 6.5 + 12.5) / 3),  # every population alike
        ("cvar", 0.01, 1.5),  # a small tail is the worst
        ("cvar", None, 2 / 3 * 1.5 + 1 / 3 * 6.5),  # the default alpha, 0.5
    ],
)
def test_aggregates_match_hand_computed_values(kind, alpha, expected):
    got = aggregate(OBJECTIVE, POPULATION, 4, kind, alpha)
    assert float(got) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(("kind", "alpha"), [("mean", None), ("worst", None), ("cvar", 0.5)])
def test_weighted_rewards_average_to_the_aggregate(kind, alpha):
    weights = reward_weights(OBJECTIVE, POPULATION, 4, kind, alpha)
    assert float(weights.mean()) == pytest.approx(1.0)  # the rewards keep their scale
    assert float((weights * OBJECTIVE).mean()) == pytest.approx(
        float(aggregate(OBJECTIVE, POPULATION, 4, kind, alpha))
    )


def test_worst_pays_only_the_worst_populations_worlds():
    weights = reward_weights(OBJECTIVE, POPULATION, 4, "worst")
    assert weights.tolist() == [3.0, 3.0, 0.0, 0.0, 0.0, 0.0]  # 6 worlds x weight 1 / 2 worlds
    # CVaR at 0.5 of three: 2/3 on the worst (two worlds), 1/3 on the next (two worlds)
    cvar = reward_weights(OBJECTIVE, POPULATION, 4, "cvar", 0.5)
    assert cvar.tolist() == pytest.approx([2.0, 2.0, 1.0, 1.0, 0.0, 0.0])


def test_robust_rewards_are_centred_on_each_populations_mean_then_weighted():
    # worst: population 0 (1.0, 2.0; mean 1.5), weight 3 each; the others 0
    worst = robust_rewards(OBJECTIVE, OBJECTIVE, POPULATION, 4, "worst")
    assert worst.tolist() == [-1.5, 1.5, 0.0, 0.0, 0.0, 0.0]
    # cvar 0.5: weight 2 on population 0, 1 on population 1 (3.0, 10.0; mean 6.5)
    cvar = robust_rewards(OBJECTIVE, OBJECTIVE, POPULATION, 4, "cvar", 0.5)
    assert cvar.tolist() == pytest.approx([-1.0, 1.0, -3.5, 3.5, 0.0, 0.0])
    # the mean leaves the rewards as they are: what every existing result was trained on
    assert robust_rewards(OBJECTIVE, OBJECTIVE, POPULATION, 4, "mean") is OBJECTIVE


def test_tail_weights_ignore_absent_populations_and_sum_to_one():
    means = torch.tensor([5.0, -100.0, 1.0])
    counts = torch.tensor([3.0, 0.0, 1.0])  # population 1 drew no world: its mean is not real
    w = tail_weights(means, counts, None)
    assert w.tolist() == [0.0, 0.0, 1.0]
    assert float(tail_weights(means, counts, 0.7).sum()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no population"):
        tail_weights(means, torch.zeros(3), None)


def test_bad_kinds_and_alphas_are_refused():
    with pytest.raises(ValueError, match="allowed 'mean', 'worst', 'cvar'"):
        aggregate(OBJECTIVE, POPULATION, 4, "median")
    with pytest.raises(ValueError, match=r"cvar_alpha: got 1.5, must be in \(0, 1\]"):
        reward_weights(OBJECTIVE, POPULATION, 4, "cvar", 1.5)


def matching(**planner) -> dict:
    data = tomllib.loads(sc.resolve_path("public_goods_matching_planner").read_text())
    data["training"]["num_worlds"] = 16
    data["planner"].update(planner)
    return data


@pytest.mark.parametrize(
    ("planner", "message"),
    [
        ({"robust_objective": "worst"}, "robust_objective = 'worst' is only used with populations"),
        ({"robust_objective": "median", "populations": ["fgf2001"]}, "robust_objective"),
        ({"populations": ["fgf2001"], "cvar_alpha": 0.5}, "cvar_alpha is only used with"),
        ({"populations": ["fgf2001"], "robust_objective": "cvar", "cvar_alpha": 0.0}, "cvar_alpha"),
        ({"populations": ["fgf2001"], "robust_objective": "cvar", "cvar_alpha": 1.2}, "cvar_alpha"),
    ],
)
def test_the_schema_names_the_field_and_what_is_allowed(planner, message):
    with pytest.raises(ConfigError, match=message):
        sc.from_dict(matching(**planner))


def test_the_default_is_the_mean_and_a_cvar_alpha_of_one_is_allowed():
    plain = sc.from_dict(matching(populations=["fgf2001"]))
    assert plain.planner.robust_objective == "mean" and plain.planner.cvar_alpha is None
    cvar = sc.from_dict(matching(populations=["fgf2001"], robust_objective="cvar", cvar_alpha=1))
    assert cvar.planner.cvar_alpha == 1.0


def test_the_worst_planner_is_paid_in_its_worst_populations_worlds_only():
    """Free riders never contribute: whatever the rate, their worlds' net welfare is the kept
    endowments, below what the learners (contributing at random at first) make of a rate.
    The 'worst' planner is paid in the free riders' worlds only, each less their mean (all
    alike here, so 0), and logs their objective as its robust objective."""
    scenario = sc.from_dict(
        matching(populations=["free_riders"], own_share=0.5, robust_objective="worst")
    )
    trainer = MixtureTrainer(scenario, iterations=1)
    trainer.apply_curriculum()
    _, credit = trainer.collect(planner_on=True)
    objective = credit.objectives[-1]  # [16] the last period's net welfare
    own = trainer.own
    assert objective[own:].mean() < objective[:own].mean()  # the free riders are worst
    rewards = trainer.planner_storage.rewards[-1, :, 0]  # [16] scaled, last decision
    assert torch.all(rewards[:own] == 0)
    assert torch.all(objective[own:] == objective[own]) and torch.all(rewards[own:] == 0)
    row = trainer.update_planner(credit, 1.0)
    assert row["robust_objective"] == pytest.approx(float(objective[own:].mean()), rel=1e-5)
