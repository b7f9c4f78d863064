"""The planner: a learning agent whose action is mechanisms' parameters (its controls).

Every ``period`` steps the planner picks a value for each of its K controls from a grid of
``rate_levels`` values between the control's low and high ends (a tax's marginal rates: 21
rates 0, 0.05, ..., 1 per bracket, as in the AI Economist; a matching rate: 0 to 4, say) and
the trainer installs them in each of the B worlds (:class:`~coopsim.agents.levers.Levers`).
Its reward at the end of a period is the scenario's social objective of what the agents got
during the period, so the planner learns rules while the agents learn to live under them.

The planner is a :class:`~coopsim.agents.ppo.PPOLearner` with one seat whose observation is
``log(1 + income)`` of every agent over the last period, the controls in force (as shares of
their ranges) and the current cap. During the curriculum's annealing phase values above the
cap (a share of each range, from its low end) are masked out of the planner's choices (their
logits set to -inf), so the policy never learns to rely on them.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from coopsim.agents.ppo import PPOLearner
from coopsim.config.planner import OBJECTIVES, PlannerConfig
from coopsim.config.training import PPOConfig
from coopsim.envs.base import WorldSpec

__all__ = ["OBJECTIVES", "Planner", "PlannerConfig"]


class Planner:
    """Sets K controls in all B worlds; learns by PPO on the social objective."""

    def __init__(
        self,
        config: PlannerConfig,
        num_agents: int,
        num_brackets: int,
        iterations: int,
        *,
        seed: int = 0,
        device: str | torch.device = "cpu",
        ppo: PPOConfig | None = None,
        low: Tensor | None = None,
        high: Tensor | None = None,
    ):
        self.config = config
        self.num_agents, self.num_brackets = num_agents, num_brackets  # K controls
        self.device = torch.device(device)
        # [L] shares of each control's range; a tax's rates are these shares themselves
        self.grid = torch.linspace(0, 1, config.rate_levels, device=self.device)
        zeros, ones = torch.zeros(num_brackets), torch.ones(num_brackets)
        self.low = (zeros if low is None else low).to(self.device, torch.float32)  # [K]
        self.high = (ones if high is None else high).to(self.device, torch.float32)  # [K]
        self.spec = WorldSpec(
            num_agents=1,
            obs_dim=num_agents + num_brackets + 1,
            action_nvec=(config.rate_levels,) * num_brackets,
            horizon=1,
        )
        base = ppo or PPOConfig()
        # Only PPOConfig's own fields: ``ppo`` may be a TrainingConfig, which adds the budget.
        shared = {f.name: getattr(base, f.name) for f in dataclasses.fields(PPOConfig)}
        pcfg = PPOConfig(
            **{
                **shared,
                "learning_rate": config.learning_rate,
                "gamma": config.gamma,
                "ent_coef": config.ent_coef,
                "ent_coef_final": config.ent_coef_final,
                "hidden": config.hidden,
                "reward_scale": 1.0,
                "num_minibatches": config.num_minibatches or base.num_minibatches,
                "update_epochs": config.update_epochs or base.update_epochs,
            }
        )
        self.learner = PPOLearner(self.spec, 1, pcfg, seed=seed + 104729, device=device)
        self.learner.name = "planner"
        if config.low_rate_prior:
            with torch.no_grad():  # the actor's output bias: one block of L logits per head
                bias = -config.low_rate_prior * self.grid  # [L]
                self.learner.net.actor.bias.copy_(bias.repeat(num_brackets))
        self.max_rate = 0.0
        self.reward_scale: float | None = None  # fixed from the first rewards seen

    # -- curriculum ---------------------------------------------------------------------
    def cap_at(self, iteration: int) -> float | None:
        """Maximum rate at ``iteration``, or None while the planner is off (phase 1)."""
        c = self.config
        if iteration < c.phase1_iterations:
            return None
        k = iteration - c.phase1_iterations
        if c.anneal_iterations == 0:
            return 1.0
        frac = min(1.0, k / c.anneal_iterations)
        return c.initial_max_rate + frac * (1.0 - c.initial_max_rate)

    def set_cap(self, cap: float) -> None:
        """Mask values above ``cap`` (a share of each control's range) out of every head."""
        self.max_rate = cap
        allowed = self.grid <= cap + 1e-6  # [L]
        self.learner.logit_mask = allowed

    # -- acting -------------------------------------------------------------------------
    def observe(self, incomes: Tensor, rates: Tensor) -> Tensor:
        """incomes [B, N], controls in force [B, K] -> planner obs [B, 1, N + K + 1]."""
        cap = torch.full_like(rates[:, :1], self.max_rate)
        shares = (rates - self.low) / (self.high - self.low)  # [B, K] each in [0, 1]
        return torch.cat([torch.log1p(incomes.clamp(min=0)), shares, cap], -1)[:, None, :]

    def rates_of(self, actions: Tensor) -> Tensor:
        """actions [B, 1, K] grid indices -> control values [B, K]."""
        return self.values_of(self.grid[actions[:, 0, :]])

    def values_of(self, shares: Tensor) -> Tensor:
        """Shares of each control's range [..., K] -> its values [..., K]."""
        return self.low + shares * (self.high - self.low)

    def scaled(self, reward: Tensor) -> Tensor:
        """Objective [B] -> reward on a unit scale (scale fixed from the first batch)."""
        if self.reward_scale is None:
            self.reward_scale = 1.0 / (float(reward.abs().mean()) + 1e-8)
        return reward * self.reward_scale

    @torch.no_grad()
    def greedy_rates(self, incomes: Tensor, rates: Tensor) -> Tensor:
        """The planner's most likely controls for each world [B, K]."""
        logits, _ = self.learner.forward(self.observe(incomes, rates))
        return self.rates_of(torch.stack([lg.argmax(-1) for lg in logits], -1))

    def state_dict(self) -> dict:
        return {
            "learner": self.learner.state_dict(),
            "reward_scale": self.reward_scale,
            "max_rate": self.max_rate,
        }

    def load_state_dict(self, state: dict) -> None:
        self.learner.load_state_dict(state["learner"])
        self.reward_scale = state["reward_scale"]
        self.set_cap(state["max_rate"])
