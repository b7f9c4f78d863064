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
