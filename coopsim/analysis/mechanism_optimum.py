"""The best static rule on a planner's grid, with agents at equilibrium: every designed
mechanism's yardstick, as :func:`~coopsim.analysis.optimal.optimal_schedule` is the tax's.

For a public-goods scenario whose planner sets controls (a matching rate, an institution's
fine and threshold, a redistribution's w and v), every point of the controls' grid is a
candidate rule. Under each, the agents play the stage game (one round) at a pure Nash
equilibrium: each agent's exact best response over its contribution grid to the others'
choices, with its payoff taken from a real step of the scenario's own world and pipeline, so
every channel of every mechanism is counted (a match, a fine, its rebate, a redistribution's
share). Responses are iterated agent by agent (Gauss-Seidel) from everybody contributing
everything, keeping a choice unless another is strictly better: where contributing is only
weakly best (r(1 + m)/N = 1 under matching) the agents keep contributing, the equilibrium a
designer aims for. The rule is played every round, so the objective is the stage game's
scaled by the number of rounds, scored with the scenario's objective exactly as the planner
is paid (:func:`coopsim.measures.social_objective`); ``votes`` compares each candidate's
equilibrium with the baseline preset's.

A rule whose equilibrium is only weakly an equilibrium (some agent has another choice that
pays exactly as much: contributing at r(1 + m)/N = 1) is a knife edge a designer cannot count
on: nothing but the tie-break above makes agents keep contributing there, and learning agents
do not. So each rule's equilibrium is also checked for strictness (every agent's choice pays
strictly more than any other, by more than the float tolerance), and the yardstick reports,
besides the best rule, the best rule whose equilibrium is strict (``robust``): the yardstick
of robust implementation, the one a learned planner is held to.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
from torch import Tensor

from coopsim.agents.levers import Levers
from coopsim.builder import make_world
from coopsim.measures import social_objective
from coopsim.scenario import Scenario, baseline_controls, resolve_controls


@dataclass
class OptimalMechanism:
    """The best static rule found on the grid and what the agents do under it."""

    controls: dict[str, float]  # control column -> its value
    objective: float  # the scenario's objective at equilibrium, over an episode
    objective_name: str
    contribution: list[float]  # [N] each agent's share of its endowment contributed
    coin: list[float]  # [N] each agent's payoff over the episode
    grid: dict[str, list[float]]  # control column -> the values searched
    candidates: int  # rules evaluated
    strict: bool = True  # every agent strictly prefers its equilibrium choice
    # The best rule whose equilibrium is strict: this rule itself where ``strict`` (then
    # None), another where the best is a knife edge, None too where no rule is strict.
    robust: OptimalMechanism | None = None

    @property
    def yardstick(self) -> OptimalMechanism:
        """What a learned planner is held to: the best rule with a strict equilibrium (this
        one if it is strict, itself too where no rule on the grid is)."""
        return self if self.strict or self.robust is None else self.robust


class _StageGame:
    """The scenario's world for one round under C candidate rules at once."""

    def __init__(self, scenario: Scenario):
        if scenario.world.kind != "public_goods" or scenario.planner is None:
            raise ValueError(
                "optimal_mechanism solves public-goods scenarios with a [planner]; "
                f"got a {scenario.world.kind!r} world"
                + ("" if scenario.planner is not None else " without a planner")
            )
        self.scenario = scenario
        self.targets = resolve_controls(scenario.planner, scenario.mechanisms)
        probe = make_world(scenario, 1)
        if probe.pipeline.needs_sanction_stage:
            raise ValueError("optimal_mechanism solves one-stage rounds (no peer punishment)")
        self.num_agents = probe.spec.num_agents
        self.levels = probe.spec.action_nvec[0]
        self.endowment = torch.as_tensor(probe.endowment, dtype=torch.float64)  # E or [N]

    def play(self, controls: Tensor, levels: Tensor) -> dict[str, Tensor]:
        """One round under controls [C, K] with contribution levels [C, N]: net [C, N],
        contribution [C, N], outlay [C]."""
        world = make_world(self.scenario, controls.shape[0])
        Levers(world.pipeline, self.targets).set(controls)
        world.reset(seed=0)
        st = world.step(levels[..., None])
        outlay = torch.zeros(controls.shape[0], dtype=torch.float64)
        for flow in st.flows.values():
            if flow.outlay is not None:
                outlay = outlay + flow.outlay.double()
        return {
            "net": st.info["net"].double(),
            "contribution": st.info["contribution"].double(),
            "outlay": outlay,
        }

    def equilibrium(self, controls: Tensor, max_sweeps: int = 50) -> tuple[Tensor, Tensor]:
        """Levels [C, N] at a pure Nash equilibrium under each rule, and [C] bool: settled."""
        c, n, top = controls.shape[0], self.num_agents, self.levels - 1
        levels = torch.full((c, n), top, dtype=torch.long)  # from full contribution
        settled = torch.zeros(c, dtype=torch.bool)
        for _ in range(max_sweeps):
            before = levels.clone()
            for i in range(n):  # one agent at a time: Gauss-Seidel
                payoff = []
                for lv in range(self.levels):  # agent i's payoff at each of its choices
                    trial = levels.clone()
                    trial[:, i] = lv
                    payoff.append(self.play(controls, trial)["net"][:, i])
                payoff = torch.stack(payoff, -1)  # [C, L]
                current = payoff.gather(1, levels[:, i : i + 1])[:, 0]
                best = payoff.argmax(-1)
                gain = payoff.max(-1).values - current
                levels[:, i] = torch.where(gain > 1e-6 * (1 + current.abs()), best, levels[:, i])
            settled = (levels == before).all(-1)
            if bool(settled.all()):
                break
        return levels, settled

    def strict(self, controls: Tensor, levels: Tensor) -> Tensor:
        """[C] bool: at levels [C, N] every agent's choice pays strictly more than any other
        choice of its own (by more than the tolerance the responses use)."""
        strict = torch.ones(controls.shape[0], dtype=torch.bool)
        for i in range(self.num_agents):
            payoff = []
            for lv in range(self.levels):  # agent i's payoff at each of its choices
                trial = levels.clone()
                trial[:, i] = lv
                payoff.append(self.play(controls, trial)["net"][:, i])
            payoff = torch.stack(payoff, -1)  # [C, L]
            current = payoff.gather(1, levels[:, i : i + 1])[:, 0]  # [C]
            others = payoff.scatter(1, levels[:, i : i + 1], -math.inf).max(-1).values  # [C]
            strict &= current - others > 1e-6 * (1 + current.abs())
        return strict

    def score(self, controls: Tensor, baseline: Tensor | None) -> tuple[Tensor, dict]:
        """[C] the objective over an episode at each rule's equilibrium (-inf where the
        responses did not settle), and what the agents did."""
        levels, settled = self.equilibrium(controls)
        out = self.play(controls, levels)
        rounds = self.scenario.world.rounds
        name, params = self.scenario.objective
        books = {
            "contribution": out["contribution"] / self.endowment,
            "outlay": out["outlay"] * rounds,
        }
        if baseline is not None:
            base_levels, _ = self.equilibrium(baseline[None])
            base = self.play(baseline[None], base_levels)["net"] * rounds  # [1, N]
            books["baseline"] = base.expand(controls.shape[0], -1)
        coin = out["net"] * rounds
        value = social_objective(name, coin, coin, params, **books)
        value = torch.where(settled, value, torch.full_like(value, -math.inf))
        strict = self.strict(controls, levels) & settled  # [C]
        return value, {"coin": coin, "contribution": books["contribution"], "strict": strict}


def optimal_mechanism(scenario: Scenario, *, max_candidates: int = 20_000) -> OptimalMechanism:
    """The rule on the planner's grid (``rate_levels`` values per control over its range) that
    maximises the scenario's objective with agents at the stage game's equilibrium."""
    game = _StageGame(scenario)
    levers = Levers(make_world(scenario, 1).pipeline, game.targets)
    steps = torch.linspace(0, 1, scenario.planner.rate_levels, dtype=torch.float64)
    columns = [
        low + steps * (high - low) for low, high in zip(levers.low.tolist(), levers.high.tolist())
    ]  # K of [L], float64 so the grid reads as written
    count = math.prod(len(col) for col in columns)
    if count > max_candidates:
        raise ValueError(
            f"the controls' grid has {count} rules, more than max_candidates = {max_candidates}"
        )
    # [C, K] every rule on the grid
    candidates = torch.tensor(list(itertools.product(*[c.tolist() for c in columns])))
    baseline = None
    if scenario.planner.baseline:
        values = baseline_controls(scenario.planner, scenario.mechanisms)
        baseline = torch.tensor(values, dtype=torch.float32)
    value, played = game.score(candidates.float(), baseline)
    names = levers.names
    grid = {name: col.tolist() for name, col in zip(names, columns)}

    def rule(c: int) -> OptimalMechanism:
        return OptimalMechanism(
            controls=dict(zip(names, candidates[c].tolist())),
            objective=float(value[c]),
            objective_name=scenario.objective[0],
            contribution=played["contribution"][c].tolist(),
            coin=played["coin"][c].tolist(),
            grid=grid,
            candidates=len(candidates),
            strict=bool(played["strict"][c]),
        )

    best = rule(int(value.argmax()))
    strict = played["strict"]  # [C]
    if not best.strict and bool(strict.any()):
        best.robust = rule(int(torch.where(strict, value, -math.inf).argmax()))
    return best
