"""Every outcome measure, declared once: what it computes, what it reads, its unit and meaning.

Evaluation computes the measures of this registry and nothing else; tables, the CLI, figures,
reports and the app list and label them from here. A new measure is one entry in
:data:`MEASURES` (and, if a planner may maximise it, one in :data:`OBJECTIVES`).

The functions themselves live in :mod:`coopsim.metrics` (tested against textbook values);
this module decides which population each reads. Wealth is an agent's total net payoff over
an episode. Inequality indices need non-negative values, so they read wealth floored at zero
(sanctions can push a payoff below zero); the welfare functions read utility, which counts
the labour agents gave up where a world records it (elsewhere utility is wealth).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor

from coopsim import metrics
from coopsim.config.planner import OBJECTIVES
from coopsim.intervals import LEVEL, OPEN, Bounds, Interval, t_interval


@dataclass(frozen=True)
class Outcome:
    """What the measures of one evaluation read, for B episodes of N agents."""

    wealth: Tensor  # [B, N] total net payoff over the episode
    utility: Tensor  # [B, N] final utility (labour counted); wealth where the world has none
    contribution: Tensor | None = None  # [R, B, N] contributions per round, where there are any
    endowment: float = 1.0  # what each agent could contribute per round
    social_optimum: float | None = None  # the world's best total payoff, where it knows it
    objective: tuple[str, dict] = ("equality_times_productivity", {})  # the scenario's
    # A common-pool resource (the commons), per step of the episode, where there is one:
    harvest: Tensor | None = None  # [T, B, N] units of the resource each agent took
    tagged: Tensor | None = None  # [T, B, N] 1 where the agent was tagged out of the game
    stock: Tensor | None = None  # [T, B] units of the resource standing after each step
    # Where a planner was played in the evaluation:
    outlay: Tensor | None = None  # [B] what an outside sponsor paid over the episode
    baseline: Tensor | None = None  # [B, N] each agent's wealth in its twin under the baseline

    @property
    def floored(self) -> Tensor:  # [B, N]
        return self.wealth.clamp(min=0)


@dataclass(frozen=True)
class Measure:
    """One measure: how to compute it per episode and how to show it."""

    name: str
    label: str  # short, for axes and table headers
    compute: Callable[[Outcome], Tensor]  # -> [B]
    reads: str  # which population variable it is computed on
    unit: str
    meaning: str  # one line, shown as help text and in reports
    better: Literal["higher", "lower"]
    applies: Callable[[Outcome], bool] = field(default=lambda outcome: True)
    # The values it can take, (low, high), None where a side is open: every interval over it
    # is cut to this range (:mod:`coopsim.intervals`), and its unit never promises a narrower one.
    bounds: Bounds = OPEN

    @property
    def higher_is_better(self) -> bool:
        return self.better == "higher"


# -- objectives a planner may maximise (and every run reports as ``objective``) -----------------


@dataclass(frozen=True)
class Books:
    """What an objective reads of B worlds over a period or an episode, besides its name.

    Coin and utility are always known; the rest only where the world and the planner have
    it: contributions in a public-goods world, the sponsor's outlay where a mechanism is paid
    for from outside, the paired world's coin where each world has a counterfactual twin
    played under the baseline rules.
    """

    coin: Tensor  # [B, N] net payoff
    utility: Tensor  # [B, N] utility gained (labour counted); coin where the world has none
    params: dict = field(default_factory=dict)  # a mix's weights, the sponsor's cost per unit
    contribution: Tensor | None = None  # [B, N] share of the endowment contributed, per round
    outlay: Tensor | None = None  # [B] what an outside sponsor paid
    baseline: Tensor | None = None  # [B, N] each agent's coin in its world's paired twin


def _needs(value: Tensor | None, objective: str, why: str) -> Tensor:
    """``value``, or one clear error saying what the objective lacks."""
    if value is None:
        raise ValueError(f"objective {objective!r} needs {why}, which were not recorded")
    return value


def votes(books: Books) -> Tensor:
    """Democratic AI's majority-vote objective: the share of agents whose coin is strictly
    higher under the planner's rules than in the paired world under the baseline. [B]"""
    baseline = _needs(books.baseline, "votes", "paired worlds under a baseline")
    return (books.coin > baseline).to(books.coin.dtype).mean(-1)


#: Objective name (the configuration's :data:`~coopsim.config.planner.OBJECTIVES`, less ``mix``,
#: a weighted sum of the others) -> its function of the :class:`Books` -> ``[B]``.
#: Equality x productivity is measured on coin, as the AI Economist's objective is; the welfare
#: functions on utility, which counts the labour agents gave up.
OBJECTIVE_FUNCTIONS: dict[str, Callable[[Books], Tensor]] = {
    "equality_times_productivity": lambda b: metrics.equality_times_productivity(
        b.coin.clamp(min=0)
    ),
    "utilitarian": lambda b: metrics.utilitarian_welfare(b.utility),
    "nash": lambda b: metrics.nash_welfare(b.utility),
    "rawls": lambda b: metrics.rawls_welfare(b.utility),
    # the share of the endowment given to the public good, over agents and rounds
    "contribution_rate": lambda b: _needs(
        b.contribution, "contribution_rate", "contributions"
    ).mean(-1),
    # utilitarian welfare less the sponsor's outlay at its cost per unit of public funds
    "net_welfare": lambda b: (
        metrics.utilitarian_welfare(b.utility)
        - b.params.get("sponsor_cost", 1.0)
        * _needs(b.outlay, "net_welfare", "the sponsor's outlay")
    ),
    "votes": votes,
}


def social_objective(
    name: str,
    coin: Tensor,
    utility: Tensor,
    params: dict | None = None,
    **books: Tensor | None,
) -> Tensor:
    """The objective ``name`` [B] from each agent's coin and utility over a period ([B, N]),
    and what else it reads (``contribution``, ``outlay``, ``baseline``: see :class:`Books`).
    ``params``: a mix's weights, or the sponsor's cost per unit for net welfare."""
    params = dict(params or {})
    if name == "mix":
        return sum(w * social_objective(k, coin, utility, {}, **books) for k, w in params.items())
    if name not in OBJECTIVE_FUNCTIONS:
        raise ValueError(f"unknown objective {name!r}; allowed: {', '.join(OBJECTIVES)}")
    return OBJECTIVE_FUNCTIONS[name](Books(coin, utility, params, **books))


def _objective_of(o: Outcome) -> Tensor:
    """The scenario's objective of an evaluation's episodes."""
    contribution = None
    if o.contribution is not None:
        contribution = o.contribution.double().mean(0) / o.endowment  # [B, N]
    name, params = o.objective
    return social_objective(
        name,
        o.wealth,
        o.utility,
        params,
        contribution=contribution,
        outlay=o.outlay,
        baseline=o.baseline,
    )


def _objective_applies(o: Outcome) -> bool:
    """Whether the evaluation knows what the objective reads: contributions, the sponsor's
    outlay (net welfare) and the paired baseline worlds (votes) are known where a planner
    was played."""
    names = set(o.objective[1]) if o.objective[0] == "mix" else {o.objective[0]}
    needs = {
        "contribution_rate": o.contribution,
        "net_welfare": o.outlay,
        "votes": o.baseline,
    }
    return all(needs[k] is not None for k in names & set(needs))


# -- Perolat et al. (2017)'s social outcomes of a common-pool resource --------------------------


def harvest_per_step(harvest: Tensor) -> Tensor:
    """Efficiency U: the collective return per step, ``sum_i sum_t r_t^i / T``; [T, B, N] -> [B]."""
    return harvest.sum((0, 2)) / harvest.shape[0]


def harvest_equality(harvest: Tensor) -> Tensor:
    """Equality E: ``1 - sum_i sum_j |R_i - R_j| / (2 N sum_i R_i)``, 1 - Gini of the agents'
    returns (without the N/(N-1) correction of ``equality``, as the paper); 1 when nobody
    took anything. [T, B, N] -> [B]."""
    returns = harvest.sum(0)  # [B, N]
    n = returns.shape[-1]
    spread = (returns[:, :, None] - returns[:, None, :]).abs().sum((1, 2))
    total = returns.sum(-1)
    return 1 - torch.where(total > 0, spread / (2 * n * total.clamp(min=1e-12)), 0.0)


def sustainability(harvest: Tensor) -> Tensor:
    """Sustainability S: the mean over agents of the mean step (1..T) at which each took the
    resource, ``1/N sum_i E[t | r_t^i > 0]``; late harvests mean a resource that lasted.
    Agents that took nothing are left out (0 when nobody took anything). [T, B, N] -> [B]."""
    steps = torch.arange(1, harvest.shape[0] + 1, dtype=harvest.dtype, device=harvest.device)
    taken = harvest.sum(0)  # [B, N]
    mean_t = (harvest * steps[:, None, None]).sum(0) / taken.clamp(min=1e-12)  # [B, N]
    some = taken > 0
    count = some.sum(-1)
    return torch.where(count > 0, (mean_t * some).sum(-1) / count.clamp(min=1), 0.0)


def peace(tagged: Tensor) -> Tensor:
    """Peace P: the share of agent-steps not tagged out, ``(N T - sum_i sum_t I_t^i) / (N T)``
    (the paper's P divided by N, so it reads 0-1 at any group size). [T, B, N] -> [B]."""
    return 1 - tagged.double().mean((0, 2))


# -- the registry ------------------------------------------------------------------------------

#: Every measure, in the order tables show them.
MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure(
            "productivity",
            "productivity",
            lambda o: metrics.productivity(o.wealth),
            "wealth",
            "coins per episode",
            "total net payoff of all agents per episode",
            "higher",
        ),
        Measure(
            "equality",
            "equality",
            lambda o: metrics.equality(o.floored),
            "wealth floored at 0",
            "index (0-1)",
            "1 - Gini x N/(N-1); 1 = everybody equal",
            "higher",
            bounds=(0.0, 1.0),
        ),
        Measure(
            "equality_times_productivity",
            "equality x productivity",
            lambda o: metrics.equality(o.floored) * metrics.productivity(o.wealth),
            "wealth (equality on wealth floored at 0)",
            "coins per episode",
            "equality times productivity: the AI Economist's social welfare",
            "higher",
        ),
        Measure(
            "gini",
            "Gini",
            lambda o: metrics.gini(o.floored),
            "wealth floored at 0",
            "index (0-1)",
            "Gini coefficient of wealth; 0 = everybody equal",
            "lower",
            bounds=(0.0, 1.0),
        ),
        Measure(
            "atkinson",
            "Atkinson (0.5)",
            lambda o: metrics.atkinson(o.floored),
            "wealth floored at 0",
            "index (0-1)",
            "Atkinson index, inequality aversion 0.5; 0 = everybody equal",
            "lower",
            bounds=(0.0, 1.0),
        ),
        Measure(
            "theil",
            "Theil",
            lambda o: metrics.theil(o.floored),
            "wealth floored at 0",
            "index (0 to ln N)",
            "Theil T index of wealth; 0 = everybody equal",
            "lower",
            bounds=(0.0, None),
        ),
        Measure(
            "utilitarian_welfare",
            "utilitarian welfare",
            lambda o: metrics.utilitarian_welfare(o.utility),
            "utility",
            "utility per episode",
            "sum of the agents' utilities",
            "higher",
        ),
        Measure(
            "nash_welfare",
            "Nash welfare",
            lambda o: metrics.nash_welfare(o.utility),
            "utility",
            "log-utility per episode",
            "sum of the logs of the agents' utilities (Nash social welfare)",
            "higher",
        ),
        Measure(
            "rawls_welfare",
            "Rawls welfare",
            lambda o: metrics.rawls_welfare(o.utility),
            "utility",
            "utility per episode",
            "utility of the worst-off agent",
            "higher",
        ),
        Measure(
            "contribution_rate",
            "contribution rate",
            lambda o: metrics.contribution_rate(o.contribution.double(), o.endowment).mean(0),
            "contributions",
            "share of endowment (0-1)",
            "share of the endowment contributed, averaged over rounds",
            "higher",
            applies=lambda o: o.contribution is not None,
            bounds=(0.0, 1.0),
        ),
        Measure(
            "efficiency",
            "efficiency",
            lambda o: metrics.efficiency(o.wealth.sum(-1), o.social_optimum),
            "wealth and the world's social optimum",
            "multiple of the world's optimum (1 = the optimum; outside money can lift it above)",
            "total payoff over the best the world allows on its own; a sponsor's money and "
            "sanctions' losses are counted, so it can pass 1 or fall below 0",
            "higher",
            applies=lambda o: o.social_optimum is not None,
        ),
        Measure(
            "objective",
            "objective",
            _objective_of,
            "wealth and utility, as the scenario's objective says",
            "as the objective",
            "the scenario's social objective, the one its planner maximises",
            "higher",
            applies=_objective_applies,
        ),
        Measure(
            "harvest_per_step",
            "harvest per step",
            lambda o: harvest_per_step(o.harvest.double()),
            "resource taken per step",
            "units per step (all agents)",
            "efficiency U of Perolat et al. (2017): the collective harvest per step",
            "higher",
            applies=lambda o: o.harvest is not None,
            bounds=(0.0, None),
        ),
        Measure(
            "harvest_equality",
            "harvest equality",
            lambda o: harvest_equality(o.harvest.double()),
            "resource taken per agent",
            "index (0-1)",
            "equality E of Perolat et al. (2017): 1 - Gini of the agents' harvests",
            "higher",
            applies=lambda o: o.harvest is not None,
            bounds=(0.0, 1.0),
        ),
        Measure(
            "sustainability",
            "sustainability",
            lambda o: sustainability(o.harvest.double()),
            "steps at which the resource was taken",
            "step of the episode",
            "sustainability S of Perolat et al. (2017): mean step at which agents harvested",
            "higher",
            applies=lambda o: o.harvest is not None,
            bounds=(0.0, None),
        ),
        Measure(
            "peace",
            "peace",
            lambda o: peace(o.tagged),
            "steps agents spent tagged out",
            "share of agent-steps (0-1)",
            "peace P of Perolat et al. (2017) per agent: share of agent-steps not tagged out",
            "higher",
            applies=lambda o: o.tagged is not None,
            bounds=(0.0, 1.0),
        ),
        Measure(
            "final_stock",
            "final stock",
            lambda o: o.stock[-1].double(),
            "resource standing at the end",
            "units",
            "units of the resource still standing when the episode ends",
            "higher",
            applies=lambda o: o.stock is not None,
            bounds=(0.0, None),
        ),
        Measure(
            "mean_stock",
            "mean stock",
            lambda o: o.stock.double().mean(0),
            "resource standing over the episode",
            "units",
            "units of the resource standing, averaged over the steps of the episode",
            "higher",
            applies=lambda o: o.stock is not None,
            bounds=(0.0, None),
        ),
    )
}


def measure_episodes(outcome: Outcome) -> dict[str, Tensor]:
    """Every measure that applies to ``outcome``, each ``[B]``, in the registry's order."""
    return {name: m.compute(outcome) for name, m in MEASURES.items() if m.applies(outcome)}


def bounds_of(name: str) -> Bounds:
    """The range of measure ``name`` (open on both sides for a column that is not one)."""
    measure = MEASURES.get(name)
    return OPEN if measure is None else measure.bounds


def interval(name: str, values, level: float = LEVEL) -> Interval:
    """The house interval of ``values`` of measure ``name``, cut to the measure's range."""
    return t_interval(values, level, bounds_of(name))


def describe(name: str) -> Measure | None:
    """The registry's entry for ``name``, or None for a column that is not a measure."""
    return MEASURES.get(name)
