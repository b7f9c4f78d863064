"""The yardstick a planner's choices are drawn against: the best static rule on its grid with
agents at equilibrium, where one can be computed for its scenario.

Two solvers exist: :func:`~coopsim.analysis.optimal_mechanism` for public-goods scenarios
(matching, an institution's fine and threshold, a redistribution's w and v; one-stage rounds)
and :func:`~coopsim.analysis.optimal_schedule` for the one-step tax economy (a tax, optionally
rebated). On this CPU both take under a second for the ready planner scenarios; a result is
kept per set of rules (world, mechanisms, planner), and a grid of more than :data:`MAX_CANDIDATES` rules is not
searched, so no page or report waits long for one. Other worlds (the commons, the
gather-trade-build economy) have none: their equilibria are not computed here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from coopsim import scenario as sc
from coopsim.analysis.mechanism_optimum import optimal_mechanism
from coopsim.analysis.optimal import optimal_schedule
from coopsim.schema import ConfigError

#: Most rules a yardstick searches for a figure (the solvers' own limit is 20,000).
MAX_CANDIDATES = 5_000


@dataclass(frozen=True)
class Yardstick:
    """The best static rule: its value per control column, and its objective."""

    controls: tuple[float, ...]  # [K] in the order of the training log's rate_<k> columns
    objective: float  # the scenario's objective over one episode at equilibrium
    objective_name: str
    solver: str  # 'optimal_mechanism' or 'optimal_schedule'


#: What a yardstick reads of a scenario: seeds and training budgets do not change it.
READS = ("world", "mechanisms", "planner")
_found: dict[str, Yardstick | str] = {}  # one search per rules, shared by every run and seed


def yardstick(scenario: dict) -> Yardstick | str:
    """The yardstick for a run's resolved scenario, or a sentence saying why there is none."""
    key = json.dumps({k: scenario.get(k) for k in READS}, sort_keys=True)
    if key not in _found:
        _found[key] = _search(scenario)
    return _found[key]


def _search(scenario: dict) -> Yardstick | str:
    try:
        loaded = sc.from_dict(scenario)
    except ConfigError as err:
        return f"its scenario no longer loads ({err})"
    if loaded.planner is None:
        return "the run has no planner"
    kind = loaded.world.kind
    try:
        if kind == "public_goods":
            # the rule a learned planner is held to: the best with a strict equilibrium
            found = optimal_mechanism(loaded, max_candidates=MAX_CANDIDATES).yardstick
            return Yardstick(
                tuple(found.controls.values()), found.objective, found.objective_name,
                "optimal_mechanism",
            )  # fmt: skip
        if kind == "one_step_economy":
            targets = sc.resolve_controls(loaded.planner, loaded.mechanisms)
            if [(t.param, t.low, t.high) for t in targets] != [("rates", 0.0, 1.0)]:
                return "optimal_schedule searches a tax's rates over 0 to 1, and nothing else"
            best = optimal_schedule(loaded, max_exhaustive=MAX_CANDIDATES)
            return Yardstick(
                tuple(best.rates), best.objective, best.objective_name, "optimal_schedule"
            )
    except ValueError as err:
        return str(err)
    return f"no yardstick is computed for {kind!r} worlds"
