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
"""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.config.planner import PlannerConfig
from coopsim.envs.base import Step
from coopsim.envs.info import taxable_income
from coopsim.measures import social_objective


class PlannerCredit:
    """Period accounting for B worlds of N agents: the income the planner observes when it
    decides, and the reward each decision earned when its period closes."""

    def __init__(
        self, config: PlannerConfig, batch_size: int, num_agents: int, device: torch.device
    ):
        if batch_size % config.group_size:
            raise ValueError(
                f"planner.group_size {config.group_size} does not divide the {batch_size} worlds"
            )
        self.objective, self.weights = config.objective, dict(config.weights)
        self.period, self.group_size = config.period, config.group_size
        zeros = torch.zeros(batch_size, num_agents, device=device)
        self.income = zeros  # [B, N] gross income of the last closed period: what it observes
        self.coin = zeros.clone()  # [B, N] net payoff so far in this period
        self.utility = zeros.clone()  # [B, N] utility gained so far in this period
        self.period_income = zeros.clone()  # [B, N] taxable income so far in this period
        self.steps = 0  # steps taken in this period
        self.objectives: list[Tensor] = []  # [B] each closed period's objective, for the log

    @property
    def decision_due(self) -> bool:
        """A period starts: the planner sets the rates it will be paid for."""
        return self.steps == 0

    def new_episode(self) -> None:
        """A new world: its first decision sees no income yet, not the last world's."""
        self.income = torch.zeros_like(self.income)

    def add(self, step: Step) -> Tensor | None:
        """Book one step; when it closes a period, the reward [B] of the decision taken at the
        period's start (its objective less its group's mean), else None."""
        if step.round_end:
            self.coin += step.info["net"]
            self.utility += step.reward  # rewards are utility increments in every world
            self.period_income += taxable_income(step.info)
        self.steps += 1
        if self.steps < self.period and not bool(step.done[0]):
            return None
        objective = social_objective(self.objective, self.coin, self.utility, self.weights)
        self.objectives.append(objective)
        self.income, self.period_income = self.period_income, torch.zeros_like(self.income)
        self.coin, self.utility = torch.zeros_like(self.coin), torch.zeros_like(self.utility)
        self.steps = 0
        return self.against_group(objective)

    def against_group(self, objective: Tensor) -> Tensor:
        """[B] each world's objective less the mean of its group of copies (itself if G = 1)."""
        g = self.group_size
        if g == 1:
            return objective
        return objective - objective.view(-1, g).mean(1).repeat_interleave(g)

    def mean_objective(self) -> float:
        """The objective averaged over every period closed so far and every world."""
        return float(torch.stack(self.objectives).mean())
