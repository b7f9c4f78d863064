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

from collections.abc import Callable, Mapping
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
    # Every variable the world reported at each round's end, [R, B, N] each, by info key
    # (World.info_keys): what a world brings that no other has (the commons' harvest, say) is
    # here, and a measure names the keys it reads (Measure.needs).
    records: Mapping[str, Tensor] = field(default_factory=dict)
    # Where a planner was played in the evaluation:
    outlay: Tensor | None = None  # [B] what an outside sponsor paid over the episode
    baseline: Tensor | None = None  # [B, N] each agent's wealth in its twin under the baseline
    # [B, N, 2] each voter's inequity aversion (alpha, beta) where some vote by it (votes)
    aversion: Tensor | None = None
    # Rounds per tax period where a tax settles over several rounds (the economy's collection
    # period); the measures of when income is earned within a period read it.
    period: int | None = None

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
    # The world's records (info keys) it reads; it is measured where all of them were recorded.
    needs: tuple[str, ...] = ()
    # Any further condition on the outcome (a known social optimum, say).
    condition: Callable[[Outcome], bool] = field(default=lambda outcome: True)
    # The values it can take, (low, high), None where a side is open: every interval over it
    # is cut to this range (:mod:`coopsim.intervals`), and its unit never promises a narrower one.
    bounds: Bounds = OPEN

    def applies(self, outcome: Outcome) -> bool:
        """Whether the outcome holds what this measure reads."""
        return all(k in outcome.records for k in self.needs) and self.condition(outcome)

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
    # [B, N, 2] each agent's inequity aversion (alpha, beta), where some vote by it (votes);
    # None: everyone votes on their own coin
    aversion: Tensor | None = None


def _needs(value: Tensor | None, objective: str, why: str) -> Tensor:
    """``value``, or one clear error saying what the objective lacks."""
    if value is None:
        raise ValueError(f"objective {objective!r} needs {why}, which were not recorded")
    return value


def votes(books: Books) -> Tensor:
    """Democratic AI's majority-vote objective: the share of agents who are strictly better
    off under the planner's rules than in the paired world under the baseline. [B]

    Better off is more coin, or, for voters with social preferences (``books.aversion``, each
    agent's Fehr-Schmidt alpha and beta), more inequity-averse utility
    (:func:`coopsim.metrics.fehr_schmidt_utility`) of the coin in each world: such a voter
    may reject a rule that pays it more but widens the gap to the others, or back one that
    pays it less and narrows it (as Koster et al. 2022's voters backed rules that redress
    wealth imbalance)."""
    baseline = _needs(books.baseline, "votes", "paired worlds under a baseline")
    mine, theirs = books.coin, baseline
    if books.aversion is not None:
        if books.aversion.shape != (*mine.shape, 2):
            raise ValueError(
                f"aversion is [B, N, 2] (alpha, beta per voter), got "
                f"{tuple(books.aversion.shape)} for coin {tuple(mine.shape)}"
            )
        mine = metrics.fehr_schmidt_utility(mine, books.aversion)
        theirs = metrics.fehr_schmidt_utility(theirs.to(mine.dtype), books.aversion)
    return (mine > theirs).to(books.coin.dtype).mean(-1)


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
    and what else it reads (``contribution``, ``outlay``, ``baseline``, ``aversion``: see
    :class:`Books`).
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
        aversion=o.aversion,
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


# -- when taxable income is earned: the AI Economist's agents shifted it across tax periods ------

#: Of every tax period, the share of its rounds counted as its end by ``late_income_share``.
LATE_FRACTION = 0.1


def period_income(income: Tensor, period: int) -> Tensor:
    """[P, B, N] taxable income summed over each full tax period of ``period`` rounds from
    per-round income [T, B, N]; a trailing part period (an episode cut short) is left out."""
    full = income.shape[0] // period
    return income[: full * period].reshape(full, period, *income.shape[1:]).sum(1)


def late_income_share_by_agent(income: Tensor, period: int, tail: int | None = None) -> Tensor:
    """[B, N] each agent's share of its income over full tax periods earned in each period's
    last ``tail`` rounds (default: ``LATE_FRACTION`` of the period, at least one); NaN for an
    agent that earned nothing. Earning evenly gives ``tail / period``; holding income back to
    build or sell at a period's end lifts it, moving it to a period's start lowers it."""
    tail = tail or max(1, round(period * LATE_FRACTION))
    full = income.shape[0] // period
    per = income[: full * period].reshape(full, period, *income.shape[1:])  # [P, T_p, B, N]
    total = per.sum((0, 1))
    late = per[:, period - tail :].sum((0, 1))
    return torch.where(total > 0, late / total.clamp(min=1e-12), torch.nan)


def income_cv_by_agent(income: Tensor, period: int) -> Tensor:
    """[B, N] the coefficient of variation (population standard deviation over the mean) of
    each agent's taxable income across the episode's full tax periods; NaN for an agent that
    earned nothing. 0 is the same income every period; bunching income into some periods,
    which a progressive schedule taxes more and a flat one does not, raises it."""
    per = period_income(income, period)  # [P, B, N]
    mean = per.mean(0)
    spread = per.std(0, correction=0)
    return torch.where(mean > 0, spread / mean.clamp(min=1e-12), torch.nan)


def _mean_over_earners(values: Tensor) -> Tensor:
    """[B, N] with NaN for agents without income -> [B] the mean over the others (0 if none)."""
    some = ~values.isnan()
    total = torch.where(some, values, 0.0).sum(-1)
    return torch.where(some.any(-1), total / some.sum(-1).clamp(min=1), 0.0)


def _periods(o: Outcome, least: int) -> bool:
    """Whether taxes settle over several rounds and the episode holds ``least`` full periods."""
    if o.period is None or o.period < 2 or "income" not in o.records:
        return False
    return o.records["income"].shape[0] // o.period >= least


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
            condition=lambda o: o.contribution is not None,
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
            # no share of an optimum of 0 (an economy episode too short to build a house)
            condition=lambda o: o.social_optimum is not None and o.social_optimum > 0,
        ),
        Measure(
            "objective",
            "objective",
            _objective_of,
            "wealth and utility, as the scenario's objective says",
            "as the objective",
            "the scenario's social objective, the one its planner maximises",
            "higher",
            condition=_objective_applies,
        ),
        Measure(
            "harvest_per_step",
            "harvest per step",
            lambda o: harvest_per_step(o.records["harvest"].double()),
            "resource taken per step",
            "units per step (all agents)",
            "efficiency U of Perolat et al. (2017): the collective harvest per step",
            "higher",
            needs=("harvest",),
            bounds=(0.0, None),
        ),
        Measure(
            "harvest_equality",
            "harvest equality",
            lambda o: harvest_equality(o.records["harvest"].double()),
            "resource taken per agent",
            "index (0-1)",
            "equality E of Perolat et al. (2017): 1 - Gini of the agents' harvests",
            "higher",
            needs=("harvest",),
            bounds=(0.0, 1.0),
        ),
        Measure(
            "sustainability",
            "sustainability",
            lambda o: sustainability(o.records["harvest"].double()),
            "steps at which the resource was taken",
            "step of the episode",
            "sustainability S of Perolat et al. (2017): mean step at which agents harvested",
            "higher",
            needs=("harvest",),
            bounds=(0.0, None),
        ),
        Measure(
            "peace",
            "peace",
            lambda o: peace(o.records["tagged"]),
            "steps agents spent tagged out",
            "share of agent-steps (0-1)",
            "peace P of Perolat et al. (2017) per agent: share of agent-steps not tagged out",
            "higher",
            needs=("tagged",),
            bounds=(0.0, 1.0),
        ),
        Measure(
            "late_income_share",
            "late income share",
            lambda o: _mean_over_earners(
                late_income_share_by_agent(o.records["income"].double(), o.period)
            ),
            "taxable income per round and the tax period",
            "share of income (0-1)",
            "share of an agent's taxable income earned in the last tenth of each tax period "
            "(mean over agents with income); 0.1 is earning evenly",
            "lower",
            needs=("income",),
            condition=lambda o: _periods(o, 1),
            bounds=(0.0, 1.0),
        ),
        Measure(
            "income_cv_periods",
            "income CV across tax periods",
            lambda o: _mean_over_earners(
                income_cv_by_agent(o.records["income"].double(), o.period)
            ),
            "taxable income per tax period",
            "coefficient of variation",
            "how unevenly an agent's taxable income falls across the episode's tax periods "
            "(std / mean, mean over agents with income); 0 is the same every period",
            "lower",
            needs=("income",),
            condition=lambda o: _periods(o, 2),
            bounds=(0.0, None),
        ),
        Measure(
            "final_stock",
            "final stock",
            lambda o: _stock(o)[-1].double(),
            "resource standing at the end",
            "units",
            "units of the resource still standing when the episode ends",
            "higher",
            needs=("stock",),
            bounds=(0.0, None),
        ),
        Measure(
            "mean_stock",
            "mean stock",
            lambda o: _stock(o).double().mean(0),
            "resource standing over the episode",
            "units",
            "units of the resource standing, averaged over the steps of the episode",
            "higher",
            needs=("stock",),
            bounds=(0.0, None),
        ),
    )
}


def _stock(o: Outcome) -> Tensor:
    """[T, B] the resource standing after each step: recorded per agent, the same number for
    every agent of a world, so agent 0's."""
    return o.records["stock"][..., 0]


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
