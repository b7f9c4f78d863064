"""The welfare-optimal tax schedule of a one-step economy, found by search: a planner's yardstick.

In the one-step economy (:mod:`coopsim.envs.one_step_economy`) the planner's problem is
static, so its optimum can be computed rather than learned. For every candidate schedule of
marginal rates we find how the agents respond, the Nash equilibrium of their labour choices
(:func:`equilibrium`), and score it with the scenario's social objective exactly as
``coopsim run`` scores an evaluation; the best candidate on the planner's own rate grid is the
fair yardstick for a learned planner (:func:`optimal_schedule`).

**Why Nash and not price-taking.** With a lump-sum rebate an agent's coin depends on the others'
labour through the rebate, and on its own labour twice: through its income and through its
1/N share of its own tax. A price-taker would ignore the second channel. The learning agents
this yardstick is compared with do not: their reward is their actual utility, rebate share
included. So each agent's response here is an exact best response over its discrete labour
grid to the others' choices, every channel counted, and the responses are iterated agent by
agent (Gauss-Seidel) to a fixed point where no agent gains by working more or less, a pure
Nash equilibrium. Each agent's effect on the rebate is small (1/N of its own tax), so the
iteration settles in a few sweeps; a candidate whose iteration has not settled is not counted.
Where a schedule has several equilibria, the one reached from everybody idle is the one scored.

Payoffs come from the scenario's own world, with candidate schedules as the batch axis: each
agent's tax at each labour choice from steps of its pipeline, utility from the world's own
utility function, and the score from a real step at the equilibrium. Only the equal split of
the rebate is written out here, which is why the pipeline must be a tax, optionally followed
by a lump-sum rebate.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from coopsim.builder import make_world
from coopsim.envs.one_step_economy import OneStepEconomyWorld
from coopsim.measures import social_objective
from coopsim.scenario import Scenario

# Candidate schedules solved at once (memory grows as CHUNK x N x L).
CHUNK = 65_536


@dataclass
class Equilibrium:
    """The agents' responses to C candidate schedules."""

    rates: Tensor  # [C, K] marginal rates per bracket
    levels: Tensor  # [C, N] long: each agent's labour choice (index into the labour grid)
    converged: Tensor  # [C] bool: no agent gains by deviating (a pure Nash equilibrium)
    info: dict[str, Tensor]  # the world's per-agent variables at equilibrium, each [C, N]
    objective: Tensor  # [C] float64 social objective (-inf where not converged)


@dataclass
class OptimalSchedule:
    """The best schedule found and what it leads to."""

    rates: list[float]  # [K] marginal rate per bracket (the scenario's cutoffs)
    objective: float  # social objective at the equilibrium, as `coopsim run` measures it
    objective_name: str
    cutoffs: list[float]  # [K] bracket lower cutoffs in coin
    labour: list[float]  # [N] equilibrium hours per agent
    income: list[float]  # [N] pre-tax income
    coin: list[float]  # [N] net coin (after tax and rebate)
    utility: list[float]  # [N]
    grid: list[float]  # the rates searched over, per bracket
    method: str  # "exhaustive" or "differential_evolution"
    candidates: int  # schedules evaluated


def _fixed_rate_scenario(scenario: Scenario) -> Scenario:
    """The scenario with its tax holding still: a Saez schedule would re-estimate as it steps."""
    mechanisms = [
        dataclasses.replace(m, params=dataclasses.replace(m.params, schedule="custom"))
        if m.kind == "tax"
        else m
        for m in scenario.mechanisms
    ]
    return dataclasses.replace(scenario, mechanisms=mechanisms)


class _Evaluator:
    """Best responses and equilibria of a one-step economy under batches of schedules."""

    def __init__(self, scenario: Scenario):
        if scenario.world.kind != "one_step_economy":
            raise ValueError(
                f"optimal schedules are computed for one_step_economy worlds, "
                f"not {scenario.world.kind!r}"
            )
        kinds = [m.kind for m in scenario.mechanisms]
        if kinds not in (["tax"], ["tax", "lump_sum"]):
            raise ValueError(
                "optimal schedules are computed for a tax, optionally followed by a lump_sum "
                f"rebate; this pipeline is {' + '.join(kinds) or 'empty'}"
            )
        self.scenario = _fixed_rate_scenario(scenario)
        self.objective = scenario.objective
        self.world = make_world(self.scenario, 1)
        assert isinstance(self.world, OneStepEconomyWorld)
        self.num_agents = self.world.spec.num_agents
        self.levels = self.world.spec.action_nvec[0]
        self.cutoffs = self.world.pipeline.mechanisms[0].cutoffs.clone()  # [K]
        self.share = (
            float(self.scenario.mechanisms[1].params.share) if len(kinds) == 2 else 0.0
        )  # fraction of the revenue rebated, equally
        self.max_income = float(self.world.skills.max() * self.world.hours.max())

    def step(self, rates: Tensor, levels: Tensor) -> dict[str, Tensor]:
        """Step the scenario's world: rates [M, K], levels [M, N] -> info and "reward" [M, N]."""
        world = make_world(self.scenario, rates.shape[0])
        world.reset(seed=0)
        world.pipeline.mechanisms[0].set_rates(rates)
        st = world.step(levels[..., None])
        return {**st.info, "reward": st.reward}

    def tax_table(self, rates: Tensor) -> Tensor:
        """Tax [C, N, L] each agent would pay at each labour choice, from L world steps."""
        c, n = rates.shape[0], self.num_agents
        cols = [
            -self.step(rates, torch.full((c, n), lv, dtype=torch.long))["transfer_tax"]
            for lv in range(self.levels)
        ]
        return torch.stack(cols, -1).double()

    def equilibrium(self, rates: Tensor, max_sweeps: int = 50) -> Equilibrium:
        """Gauss-Seidel best responses from no work to a fixed point, for [C, K] schedules."""
        rates = rates.float()
        parts = [
            self._equilibrium(rates[i : i + CHUNK], max_sweeps)
            for i in range(0, rates.shape[0], CHUNK)
        ]
        if len(parts) == 1:
            return parts[0]
        return Equilibrium(
            rates=torch.cat([p.rates for p in parts]),
            levels=torch.cat([p.levels for p in parts]),
            converged=torch.cat([p.converged for p in parts]),
            info={k: torch.cat([p.info[k] for p in parts]) for k in parts[0].info},
            objective=torch.cat([p.objective for p in parts]),
        )

    def _equilibrium(self, rates: Tensor, max_sweeps: int) -> Equilibrium:
        c, n = rates.shape[0], self.num_agents
        # Agent i's coin at labour choice l, with the others' taxes T_o going into the pool:
        # z_i(l) - T_i(l) + share * (T_i(l) + T_o) / N. The tax table comes from the world's
        # own pipeline; only the rebate's equal split is written out here.
        tax = self.tax_table(rates)  # [C, N, L]
        hours = self.world.hours.double()  # [L]
        income = self.world.skills.double()[:, None] * hours  # [N, L]
        own = income - tax * (1.0 - self.share / n)  # [C, N, L]
        levels = torch.zeros(c, n, dtype=torch.long)  # [C, N] start from no work
        converged = torch.zeros(c, dtype=torch.bool)
        for _ in range(max_sweeps):
            before = levels.clone()
            for i in range(n):  # one agent at a time: Gauss-Seidel
                paid = tax.gather(2, levels[..., None])[..., 0]  # [C, N] taxes at current choices
                others = paid.sum(-1) - paid[:, i]  # [C]
                coin = own[:, i] + (self.share / n) * others[:, None]  # [C, L]
                utility = self.world.utility(coin, hours)  # [C, L]
                best = utility.argmax(-1)  # [C] lowest labour among equals
                current = utility.gather(1, levels[:, i : i + 1])[:, 0]
                gain = utility.gather(1, best[:, None])[:, 0] - current
                # Keep the current choice unless another is strictly better (ties don't cycle).
                levels[:, i] = torch.where(gain > 1e-9 * (1 + current.abs()), best, levels[:, i])
            converged = (levels == before).all(-1)
            if bool(converged.all()):
                break
        info = self.step(rates, levels)
        name, weights = self.objective
        # As coopsim.evaluate.episode_metrics scores an episode: wealth is the sum of net
        # payoffs over the rounds (one here), utility its final value, both in float64.
        score = social_objective(name, info["net"].double(), info["utility"].double(), weights)
        score = torch.where(converged, score, torch.full_like(score, -math.inf))
        return Equilibrium(rates, levels, converged, info, score)


def equilibrium(scenario: Scenario, rates: Tensor | list, max_sweeps: int = 50) -> Equilibrium:
    """The agents' Nash equilibrium labour under each schedule of ``rates`` ([C, K] or [K])."""
    rates = torch.as_tensor(rates, dtype=torch.float32)
    return _Evaluator(scenario).equilibrium(rates[None] if rates.dim() == 1 else rates, max_sweeps)


def optimal_schedule(
    scenario: Scenario,
    *,
    rate_levels: int | None = None,
    max_exhaustive: int = 20_000,
    seed: int = 0,
    maxiter: int = 60,
    popsize: int = 20,
) -> OptimalSchedule:
    """The schedule on the planner's rate grid that maximises the scenario's social objective.

    The grid is ``rate_levels`` rates ``0, 1/(L-1), ..., 1`` per bracket (the planner's
    ``rate_levels``, 21 when the scenario has no planner): the choices a learned planner has,
    so its result can be compared with this one directly. Brackets that start above the
    highest income anyone can earn cannot matter; they are left out of the search and given
    the rate of the bracket below. When the remaining grid has at most ``max_exhaustive``
    schedules every one is evaluated; otherwise scipy's differential evolution searches the
    rates (snapped to the grid) and coordinate ascent on the grid polishes the result;
    ``seed``, ``maxiter`` (generations) and ``popsize`` (schedules per searched bracket) steer
    that search, which starts from every flat schedule, the free market included.
    """
    ev = _Evaluator(scenario)
    if rate_levels is None:
        rate_levels = scenario.planner.rate_levels if scenario.planner is not None else 21
    grid = torch.linspace(0, 1, rate_levels)  # [L]
    k_all = ev.cutoffs.numel()
    k = max(1, int((ev.cutoffs < ev.max_income).sum()))  # brackets anyone can reach
    searched = 0

    def full(idx: Tensor) -> Tensor:
        """Grid indices [C, k] of the searched brackets -> rates [C, K] for all brackets."""
        top = idx[:, -1:].expand(-1, k_all - k)
        return grid[torch.cat([idx, top], dim=1)]

    def score(idx: Tensor) -> Tensor:
        nonlocal searched
        searched += idx.shape[0]
        return ev.equilibrium(full(idx)).objective  # [C]

    if rate_levels**k <= max_exhaustive:
        method = "exhaustive"
        idx = torch.tensor(list(itertools.product(range(rate_levels), repeat=k)))  # [L^k, k]
        best = idx[int(score(idx).argmax())]
    else:
        from scipy.optimize import differential_evolution

        method = "differential_evolution"
        rng = np.random.default_rng(seed)
        # The first population: every flat schedule (the free market among them) and random
        # ones, so the search starts no worse than the simplest rules.
        size = max(popsize * k, rate_levels)
        flat = np.repeat(np.linspace(0, 1, rate_levels)[:, None], k, 1)  # [L, k]
        init = np.concatenate([flat, rng.random((size - rate_levels, k))])  # [S, k]

        def snap(x: np.ndarray) -> Tensor:
            return torch.as_tensor(np.rint(x * (rate_levels - 1)), dtype=torch.long)

        def loss(x: np.ndarray) -> np.ndarray:  # x [k, S] -> [S]
            return -score(snap(np.atleast_2d(x.T))).numpy()

        result = differential_evolution(
            loss,
            bounds=[(0.0, 1.0)] * k,
            seed=seed,
            maxiter=maxiter,
            init=init,
            polish=False,
            vectorized=True,
            updating="deferred",
            tol=0.0,
        )
        best = snap(result.x[None])[0]
        # Coordinate ascent on the grid: each bracket's every rate in one batch, until stable.
        current = float(score(best[None])[0])
        improved = True
        while improved:
            improved = False
            for j in range(k):
                trial = best[None].repeat(rate_levels, 1)
                trial[:, j] = torch.arange(rate_levels)
                values = score(trial)
                if float(values.max()) > current + 1e-12:
                    best, current, improved = trial[int(values.argmax())], float(values.max()), True

    eq = ev.equilibrium(full(best[None]))
    info = eq.info
    return OptimalSchedule(
        rates=eq.rates[0].tolist(),
        objective=float(eq.objective[0]),
        objective_name=scenario.objective[0],
        cutoffs=ev.cutoffs.tolist(),
        labour=info["labour"][0].tolist(),
        income=info["income"][0].tolist(),
        coin=info["net"][0].tolist(),
        utility=info["utility"][0].tolist(),
        grid=grid.tolist(),
        method=method,
        candidates=searched,
    )
