"""Fixed rules against populations: the grid, the test of which populations a rule moves, and
the max-min rule read from the table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from coopsim import scenario as sc
from coopsim.stress.grid import control_grid, max_min_rule, movable, rule_grid, sensitivity
from coopsim.stress.populations import load_population

INSTITUTION = "public_goods_institution_planner"


def test_the_control_grid_is_every_combination_of_each_controls_values():
    names, rules = control_grid(sc.load(INSTITUTION), levels=3)
    assert names == ["sanction_institution.fine", "sanction_institution.threshold"]
    assert rules.shape == (9, 2)
    assert set(rules[:, 0].tolist()) == {0.0, 1.0, 2.0}  # the fine's grid is [0, 2]
    assert set(rules[:, 1].tolist()) == {0.0, 0.5, 1.0}
    assert len({tuple(r) for r in rules.tolist()}) == 9


def test_hurdles_answer_the_fine_and_unconditional_contributors_do_not():
    # below the threshold a coin returns 0.4 + 0.75 x fine (the fine rebated to all four):
    # hurdles 0.85..1.15 all give at fine 1 (1.15), none at fine 0 (0.4)
    rules = torch.tensor([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    pops = [load_population("hurdle_low"), load_population("altruists_and_free_riders")]
    frame = rule_grid(sc.load(INSTITUTION), pops, rules, episodes=4)
    assert len(frame) == 6 and set(frame["n"]) == {4}
    hurdle = frame[frame["population"] == "hurdle_low"].set_index("rule")["objective"]
    assert hurdle.tolist() == pytest.approx([0.0, 1.0, 1.0])
    blind = frame[frame["population"] == "altruists_and_free_riders"]["objective"]
    assert blind.nunique() == 1  # the same seats under every rule, and they ignore it
    assert movable(frame) == ["hurdle_low"]
    best = max_min_rule(frame, ["hurdle_low"])
    assert best["sanction_institution.fine"] == 1.0 and best["worst"] == pytest.approx(1.0)


def test_a_paired_objective_plays_each_rule_beside_its_baseline_twin():
    # Democratic AI's vote share is measured against the strict egalitarian twin
    rules = torch.tensor([[0.0, 0.6], [1.0, 0.0]])
    frame = rule_grid(
        sc.load("democratic_ai_planner"), [load_population("best_responders")], rules, episodes=4
    )
    votes = frame.set_index("rule")["objective"]
    assert ((votes >= 0) & (votes <= 1)).all()
    assert votes[0] > votes[1]  # full redistribution by contribution (w = 1, v = 0) loses


def test_sensitivity_tells_a_difference_from_noise():
    def table(means, se):
        return pd.DataFrame(
            {
                "rule": range(len(means)),
                "x": range(len(means)),
                "population": "p",
                "objective": means,
                "se": se,
                "n": 16,
            }
        )

    assert sensitivity(table([0.5, 0.52, 0.49], [0.05] * 3))["movable"].item() is False
    assert sensitivity(table([0.1, 0.5, 0.9], [0.05] * 3))["movable"].item() is True
    # alike in every episode under one rule, different under another: a difference
    assert sensitivity(table([0.25, 0.0], [0.0, 0.0]))["movable"].item() is True
    assert sensitivity(table([0.25, 0.25], [0.0, 0.0]))["movable"].item() is False


def test_the_max_min_rule_is_the_best_worst_case():
    frame = pd.DataFrame(
        {
            "rule": [0, 0, 1, 1, 2, 2],
            "m": [0.0, 0.0, 1.0, 1.0, 2.0, 2.0],
            "population": ["a", "b"] * 3,
            "objective": [9.0, 1.0, 5.0, 4.0, 2.0, 8.0],
            "se": 0.0,
            "n": 4,
        }
    )
    best = max_min_rule(frame)
    assert best["m"] == 1.0 and best["worst"] == 4.0 and best["worst_population"] == "b"
    assert max_min_rule(frame, ["a"])["m"] == 0.0
    with pytest.raises(ValueError, match="not in the table"):
        max_min_rule(frame, ["c"])


def test_bad_input_is_refused_clearly():
    pop = [load_population("hurdle_low")]
    with pytest.raises(ValueError, match="has no \\[planner\\]"):
        rule_grid(sc.load("public_goods_institution"), pop)
    with pytest.raises(ValueError, match="another world"):
        rule_grid(sc.load(INSTITUTION), [load_population("commons_greedy")], levels=2)
    with pytest.raises(ValueError, match="episodes"):
        rule_grid(sc.load(INSTITUTION), pop, levels=2, episodes=1)
    with pytest.raises(ValueError, match="at least one population"):
        rule_grid(sc.load(INSTITUTION), [], levels=2)
    with pytest.raises(ValueError, match="levels"):
        control_grid(sc.load(INSTITUTION), levels=1)


def test_inequity_averse_voters_vote_as_computed_by_hand(tmp_path):
    # hurdle responders (0.85..1.15) all give all under w 0, v 0.8 and nothing under the
    # strict egalitarian baseline (a coin returns 0.4): per round the rich seat gets 14.08
    # against 10, each poor one 3.84 against 2 (see tests/test_measures.py). On their own
    # payoff all four vote for the rule; by Fehr-Schmidt utility with alpha 4, beta 0.6 the
    # three poor seats vote against it (their gap to the rich seat widens), with alpha 1 not
    def population(name: str, vote: str) -> Path:
        path = tmp_path / f"{name}.toml"
        path.write_text(
            f'name = "{name}"\nworld = "public_goods"\n[[members]]\n'
            f'policy = "hurdle_responder"\nshare = 1.0\nparams = {{ low = 0.8, high = 1.2 }}\n'
            + vote
        )
        return path

    pops = [
        load_population(population("own", "")),
        load_population(population("envious", "vote_alpha = 4.0\nvote_beta = 0.6\n")),
        load_population(population("fair", "vote_alpha = 1.0\nvote_beta = 0.6\n")),
    ]
    frame = rule_grid(
        sc.load("democratic_ai_planner"), pops, torch.tensor([[0.0, 0.8]]), episodes=4
    )
    votes = frame.set_index("population")["objective"]
    assert votes["own"] == pytest.approx(1.0)
    assert votes["envious"] == pytest.approx(0.25)
    assert votes["fair"] == pytest.approx(1.0)
