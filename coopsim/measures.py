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

from torch import Tensor

from coopsim import metrics
from coopsim.config.planner import OBJECTIVES


@dataclass(frozen=True)
class Outcome:
    """What the measures of one evaluation read, for B episodes of N agents."""

    wealth: Tensor  # [B, N] total net payoff over the episode
    utility: Tensor  # [B, N] final utility (labour counted); wealth where the world has none
    contribution: Tensor | None = None  # [R, B, N] contributions per round, where there are any
    endowment: float = 1.0  # what each agent could contribute per round
    social_optimum: float | None = None  # the world's best total payoff, where it knows it
    objective: tuple[str, dict] = ("equality_times_productivity", {})  # the scenario's

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

    @property
    def higher_is_better(self) -> bool:
        return self.better == "higher"


# -- objectives a planner may maximise (and every run reports as ``objective``) -----------------

#: Objective name (the configuration's :data:`~coopsim.config.planner.OBJECTIVES`, less ``mix``,
#: a weighted sum of the others) -> its function of coin and utility ``[B, N]`` -> ``[B]``.
#: Equality x productivity is measured on coin, as the AI Economist's objective is; the welfare
#: functions on utility, which counts the labour agents gave up.
OBJECTIVE_FUNCTIONS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "equality_times_productivity": lambda coin, utility: metrics.equality_times_productivity(
        coin.clamp(min=0)
    ),
    "utilitarian": lambda coin, utility: metrics.utilitarian_welfare(utility),
    "nash": lambda coin, utility: metrics.nash_welfare(utility),
    "rawls": lambda coin, utility: metrics.rawls_welfare(utility),
}


def social_objective(
    name: str, coin: Tensor, utility: Tensor, weights: dict | None = None
) -> Tensor:
    """The objective ``name`` [B] from each agent's coin and utility over a period ([B, N])."""
    if name == "mix":
        return sum(w * social_objective(k, coin, utility) for k, w in (weights or {}).items())
    if name not in OBJECTIVE_FUNCTIONS:
        raise ValueError(f"unknown objective {name!r}; allowed: {', '.join(OBJECTIVES)}")
    return OBJECTIVE_FUNCTIONS[name](coin, utility)


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
        ),
        Measure(
            "atkinson",
            "Atkinson (0.5)",
            lambda o: metrics.atkinson(o.floored),
            "wealth floored at 0",
            "index (0-1)",
            "Atkinson index, inequality aversion 0.5; 0 = everybody equal",
            "lower",
        ),
        Measure(
            "theil",
            "Theil",
            lambda o: metrics.theil(o.floored),
            "wealth floored at 0",
            "index (0 to ln N)",
            "Theil T index of wealth; 0 = everybody equal",
            "lower",
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
        ),
        Measure(
            "efficiency",
            "efficiency",
            lambda o: metrics.efficiency(o.wealth.sum(-1), o.social_optimum),
            "wealth and the world's social optimum",
            "share of the optimum (0-1)",
            "total payoff as a share of the best the world allows",
            "higher",
            applies=lambda o: o.social_optimum is not None,
        ),
        Measure(
            "objective",
            "objective",
            lambda o: social_objective(o.objective[0], o.wealth, o.utility, o.objective[1]),
            "wealth and utility, as the scenario's objective says",
            "as the objective",
            "the scenario's social objective, the one its planner maximises",
            "higher",
        ),
    )
}


def measure_episodes(outcome: Outcome) -> dict[str, Tensor]:
    """Every measure that applies to ``outcome``, each ``[B]``, in the registry's order."""
    return {name: m.compute(outcome) for name, m in MEASURES.items() if m.applies(outcome)}


def describe(name: str) -> Measure | None:
    """The registry's entry for ``name``, or None for a column that is not a measure."""
    return MEASURES.get(name)
