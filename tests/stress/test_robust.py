"""``[planner] populations``: the planner trains against a mixture; learners learn in their
own worlds only; and a scenario naming populations is checked when it loads."""

from __future__ import annotations

import copy

import pytest
import torch

from coopsim import scenario as sc
from coopsim.schema import ConfigError
from coopsim.stress.robust import MixtureTrainer, trainer_for
from coopsim.train import Trainer


def matching(**planner) -> dict:
    import tomllib

    data = tomllib.loads(sc.resolve_path("public_goods_matching_planner").read_text())
    data["training"]["num_worlds"] = 16
    data["planner"].update(planner)
    return data


def test_a_planner_with_populations_gets_the_mixture_trainer():
    plain = sc.from_dict(matching())
    robust = sc.from_dict(matching(populations=["free_riders"], own_share=0.25))
    assert trainer_for(plain) is Trainer and trainer_for(robust) is MixtureTrainer


def test_the_mixture_worlds_play_the_drawn_population_and_learners_learn_only_at_home():
    scenario = sc.from_dict(matching(populations=["free_riders"], own_share=0.25))
    trainer = MixtureTrainer(scenario, iterations=2)
    assert trainer.own == 4
    storage = [s for s in trainer.storage if s is not None][0]
    assert storage.obs.shape[1] == 4  # [T, own worlds, seats, O]
    trainer.apply_curriculum()
    trainer.collect(planner_on=True)
    obs = trainer.world.reset(seed=3)
    actions = trainer.act(0, obs)
    assert actions[4:].sum() == 0  # every seat of the other 12 worlds is a free rider
    rows = trainer.train()
    assert len(rows) == 2 and all(torch.isfinite(torch.tensor(r["objective"])) for r in rows)
    # what it saves is the plain trainer's state: a run of it loads like any other
    plain = Trainer(scenario, iterations=2)
    plain.load_state_dict(trainer.state_dict())


def test_mixtures_come_in_the_groups_the_objective_plays():
    import tomllib

    data = tomllib.loads(sc.resolve_path("democratic_ai_planner").read_text())
    data["training"]["num_worlds"] = 8
    data["planner"]["populations"] = ["fgf2001", "conditional_cooperators"]
    trainer = MixtureTrainer(sc.from_dict(data), iterations=1)
    table = trainer.draw()  # [B - own, N], twins (2k, 2k + 1) alike
    assert torch.equal(table[0::2], table[1::2])


def test_drawn_voters_vote_by_their_aversion_and_the_own_learners_by_their_coin():
    import tomllib

    data = tomllib.loads(sc.resolve_path("democratic_ai_planner").read_text())
    data["training"]["num_worlds"] = 8
    data["planner"]["populations"] = ["fairness_strong", "hurdle_low"]
    trainer = MixtureTrainer(sc.from_dict(data), iterations=1)
    table = trainer.draw()
    aversion = trainer.voter_aversion()  # [B, N, 2]
    assert aversion.shape == (8, 4, 2)
    assert aversion[: trainer.own].eq(0).all()  # the scenario's learners vote on their coin
    drawn = aversion[trainer.own :]
    strong = trainer.world_population[trainer.own :] == 1  # fairness_strong's worlds
    assert drawn[~strong].eq(0).all()  # hurdle_low votes on its coin
    # fairness_strong's seats: alpha 1 (member 0) or 4 (member 1), beta 0.6, as drawn
    alpha = torch.where(table == 1, 4.0, 1.0)
    assert torch.equal(drawn[strong, :, 0], alpha[strong])
    assert drawn[strong, :, 1].sub(0.6).abs().max() < 1e-6
    assert torch.equal(drawn[0::2], drawn[1::2])  # a world and its baseline twin alike


@pytest.mark.parametrize(
    ("planner", "field", "words"),
    [
        ({"populations": ["commons_greedy"]}, "planner.populations[0]", "'commons' worlds"),
        ({"populations": ["nobody"]}, "planner.populations[0]", "no such population"),
        ({"own_share": 0.5}, "planner", "only used with populations"),
        ({"populations": ["free_riders"], "own_share": 0.01}, "planner.own_share", "at least 1"),
    ],
)
def test_bad_populations_are_caught_when_the_scenario_loads(planner, field, words):
    with pytest.raises(ConfigError) as err:
        sc.from_dict(copy.deepcopy(matching(**planner)), source="robust.toml")
    assert err.value.field == field and words in err.value.problem
