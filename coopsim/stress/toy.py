"""A toy mixture where the mean and the worst case over populations want different rules.

The matching planner's world (4 seats, endowment 20, r = 1.6, sponsor cost 1.8, net welfare,
one rule per 10-round episode) with two populations, half the training worlds each:

- the scenario's own, four unconditional contributors: a match of m costs the sponsor
  1.8 m per coin given and adds 1.6 m to the pot, so net welfare per round is 128 - 16 m,
  best at m = 0;
- ``hurdle_low``: a seat gives its 20 when 0.4 (1 + m) reaches its hurdle (0.85, 0.95, 1.05,
  1.15), nobody at m = 0 (welfare 80 per round); each giver adds 12 - 4 m. At m = 2 all four
  give: 96.

Mean over the worlds: 104 at m = 0, 96 at m = 2, so the mean planner drops the match. The
worse population is ``hurdle_low`` below m = 2 and the contributors above it, so the minimum
peaks at m = 2 (96 for both), where the worst-case planner should settle. Per episode, ten
times these numbers. :func:`chosen_rate` trains one and returns the rate it settled on; the
slow test and ``bench/robust_objective.py`` run it.

A second toy, for a training mix of the populations a rule moves: the institution planner
(fine 0-2, threshold 0-1, contribution rate), its own seats ``hurdle_low`` responders, trained
against ``free_riders`` (who give nothing under any rule) and ``quantal_noisy`` (whose giving
rises with the fine and the threshold, 0.76 at fine 2 and threshold 1, the most). With the free
riders in the mix the worst population is always theirs, at 0 whatever the rule: the minimum
is flat and a worst-case planner has nothing to follow. The grid of fixed rules
(:func:`coopsim.stress.experiment.movable_mix`) leaves them out; against ``quantal_noisy``
alone the minimum rises with both controls, and the worst-case planner should raise them to
the max-min rule, fine 2 at threshold 1. :func:`chosen_rule` trains one.
"""

from __future__ import annotations

import tomllib

from coopsim import scenario as sc

#: The rule each objective should pick (matching rate), from the numbers above.
BEST_RATE = {"mean": 0.0, "worst": 2.0}


def toy_scenario(kind: str, worlds: int = 32, iterations: int = 40) -> sc.Scenario:
    """The toy mixture's scenario with ``[planner] robust_objective = kind``."""
    data = tomllib.loads(sc.resolve_path("public_goods_matching_planner").read_text())
    data["name"] = f"toy_mixture_{kind}"
    data["population"] = [{"policy": "always_contribute", "count": 4}]
    data["training"].update(num_worlds=worlds, iterations=iterations)
    data["planner"].update(
        populations=["hurdle_low"], own_share=0.5, robust_objective=kind, learning_rate=0.03
    )
    return sc.from_dict(data)


def chosen_rate(kind: str, seed: int, worlds: int = 32, iterations: int = 40) -> float:
    """The mean matching rate the planner chose over its last training iteration."""
    from coopsim.stress.robust import MixtureTrainer

    trainer = MixtureTrainer(toy_scenario(kind, worlds, iterations), seed=seed)
    return float(trainer.train()[-1]["rate_0"])


#: The max-min rule of the second toy (fine, threshold): where ``quantal_noisy`` gives most.
MOVABLE_BEST = (2.0, 1.0)


def movable_toy_scenario(
    populations: list[str], worlds: int = 32, iterations: int = 40
) -> sc.Scenario:
    """The institution planner, its own seats hurdle responders, trained against
    ``populations`` with ``robust_objective = 'worst'``."""
    data = tomllib.loads(sc.resolve_path("public_goods_institution_planner").read_text())
    data["name"] = "toy_movable"
    data["population"] = [
        {"policy": "hurdle_responder", "count": 4, "params": {"low": 0.8, "high": 1.2}}
    ]
    data["training"].update(num_worlds=worlds, iterations=iterations)
    data["planner"].update(
        populations=populations, own_share=0.5, robust_objective="worst", learning_rate=0.03
    )
    return sc.from_dict(data)


def chosen_rule(
    populations: list[str], seed: int, worlds: int = 32, iterations: int = 80
) -> tuple[float, float]:
    """(fine, threshold): the mean the planner chose over its last training iteration."""
    from coopsim.stress.robust import MixtureTrainer

    trainer = MixtureTrainer(movable_toy_scenario(populations, worlds, iterations), seed=seed)
    last = trainer.train()[-1]
    return float(last["rate_0"]), float(last["rate_1"])
