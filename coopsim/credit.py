"""The planner's credit: what each of its decisions earned, against a baseline.

A planner decides at the start of each tax period (every ``planner.period`` steps, and at every
episode's start) and is paid at the period's end the scenario's social objective of what the
agents got during it: their coin (net payoff) and their utility (rewards, labour counted).
Those books are kept here, apart from the training loop, so they can be read and tested alone.

A planner's reward varies far more with the world drawn (who is skilled, where the wood is)
than with its rates. With ``planner.group_size`` G > 1 the B worlds of an episode are B/G
groups of G copies of one world (:meth:`~coopsim.envs.base.World.replicate`), and a decision
is paid its objective minus its group's mean: the copies differ only by their rates and what
the agents then did, a common-random-numbers baseline the critic alone cannot give.

A paired objective (``votes``, Democratic AI's majority vote) plays the B worlds as B/2 pairs:
world 2k under the planner's rules, world 2k+1 a copy of it under the baseline rules, with the
same agents. A decision is paid the share of agents whose coin over its period was higher in
the planner's world than in its twin; the planner decides, and is paid, in the even worlds.
"""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.config.planner import PAIRED_OBJECTIVES, PlannerConfig
from coopsim.envs.base import Step
from coopsim.envs.info import taxable_income
from coopsim.measures import social_objective


class PlannerCredit:
    """Period accounting for B worlds of N agents: the income the planner observes when it
    decides, and the reward each decision earned when its period closes."""

    def __init__(
        self,
        config: PlannerConfig,
        batch_size: int,
        num_agents: int,
        device: torch.device,
        endowment: float = 1.0,
    ):
        if batch_size % config.group_size:
            raise ValueError(
                f"planner.group_size {config.group_size} does not divide the {batch_size} worlds"
            )
        self.objective, self.params = config.objective, config.objective_params()
        self.period, self.group_size = config.period, config.group_size
        self.paired = config.objective in PAIRED_OBJECTIVES
        if self.paired and batch_size % 2:
            raise ValueError(f"objective {config.objective!r} needs an even number of worlds")
        self.endowment = endowment  # what a round's contribution is a share of
        zeros = torch.zeros(batch_size, num_agents, device=device)
        self.income = zeros  # [B, N] gross income of the last closed period: what it observes
        self.coin = zeros.clone()  # [B, N] net payoff so far in this period
        self.utility = zeros.clone()  # [B, N] utility gained so far in this period
        self.period_income = zeros.clone()  # [B, N] taxable income so far in this period
        self.contribution = zeros.clone()  # [B, N] shares of the endowment given this period
        self.outlay = zeros[:, 0].clone()  # [B] what outside sponsors paid this period
        self.rounds = 0  # rounds closed in this period
        self.contributes = False  # the world records contributions (a public-goods world)
        self.steps = 0  # steps taken in this period
        self.objectives: list[Tensor] = []  # [B] each closed period's objective, for the log
        # [B, N, 2] each seat's Fehr-Schmidt (alpha, beta) where some seats vote by it (set by
        # whoever knows who sits there: the evaluation, a mixture's trainer); None: own coin
        self.aversion: Tensor | None = None

    @property
    def decision_due(self) -> bool:
        """A period starts: the planner sets the rates it will be paid for."""
        return self.steps == 0

    def new_episode(self) -> None:
        """A new world: its first decision sees no income yet, not the last world's."""
        self.income = torch.zeros_like(self.income)

    def add(self, step: Step) -> Tensor | None:
        """Book one step; when it closes a period, the reward of the decision taken at the
        period's start (its objective less its group's mean: [B]; a paired objective's, one
        per pair: [B/2]), else None."""
        if step.round_end:
            self.coin += step.info["net"]
            self.utility += step.reward  # rewards are utility increments in every world
            self.period_income += taxable_income(step.info)
            if "contribution" in step.info:  # a public-goods world's
                self.contribution += step.info["contribution"] / self.endowment
                self.contributes = True
            for flow in step.flows.values():
                if flow.outlay is not None:
                    self.outlay += flow.outlay
            self.rounds += 1
        self.steps += 1
        if self.steps < self.period and not bool(step.done[0]):
            return None
        objective = self.period_objective()
        self.objectives.append(objective)
        self.income, self.period_income = self.period_income, torch.zeros_like(self.income)
        self.coin, self.utility = torch.zeros_like(self.coin), torch.zeros_like(self.utility)
        self.contribution, self.outlay = (
            torch.zeros_like(self.contribution),
            torch.zeros_like(self.outlay),
        )
        self.rounds = 0
        self.steps = 0
        return objective if self.paired else self.against_group(objective)

    def period_objective(self) -> Tensor:
        """The closing period's objective: [B], or [B/2] (the planner's worlds) if paired."""
        books = {
            "coin": self.coin,
            "utility": self.utility,
            "contribution": self.contribution / max(self.rounds, 1) if self.contributes else None,
            "outlay": self.outlay,
        }
        if not self.paired:
            return social_objective(self.objective, params=self.params, **books)
        mine = {k: None if v is None else v[0::2] for k, v in books.items()}
        aversion = None if self.aversion is None else self.aversion[0::2]
        return social_objective(
            self.objective,
            params=self.params,
            baseline=self.coin[1::2],
            aversion=aversion,
            **mine,
        )

    def against_group(self, objective: Tensor) -> Tensor:
        """[B] each world's objective less the mean of its group of copies (itself if G = 1)."""
        g = self.group_size
        if g == 1:
            return objective
        return objective - objective.view(-1, g).mean(1).repeat_interleave(g)

    def mean_objective(self) -> float:
        """The objective averaged over every period closed so far and every world."""
        return float(torch.stack(self.objectives).mean())
