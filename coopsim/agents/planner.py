"""The planner: a learning agent whose action is a mechanism's parameters.

Every ``period`` steps the planner picks one marginal rate per tax bracket from a grid
(21 rates 0, 0.05, ..., 1 by default, as in the AI Economist) and installs them in each of the
B worlds' bracket tax (:meth:`mechanisms.tax.BracketTax.set_rates`). Its reward at the end of a
period is the scenario's social objective of what the agents got during the period, so the
planner learns rules while the agents learn to live under them.

The planner is a :class:`~coopsim.agents.ppo.PPOLearner` with one seat whose observation is
``log(1 + income)`` of every agent over the last period, the current rates and the current
rate cap. During the curriculum's annealing phase rates above the cap are masked out of the
planner's choices (their logits set to -inf), so the policy never learns to rely on them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor

from coopsim import metrics
from coopsim.agents.ppo import PPOConfig, PPOLearner
from coopsim.envs.base import WorldSpec
from coopsim.schema import param

OBJECTIVES = ("equality_times_productivity", "utilitarian", "nash", "rawls", "mix")


@dataclass
class PlannerConfig:
    mechanism: str = param("tax", help="Kind of the pipeline mechanism whose rates it sets")
    rate_levels: int = param(21, help="Rates on the grid 0, 1/(L-1), ..., 1 per bracket", ge=2)
    period: int = param(1, help="Steps between the planner's decisions (its tax period)", ge=1)
    objective: str = param(
        "equality_times_productivity", help="Social objective it maximises", choices=OBJECTIVES
    )
    weights: dict = param(
        default_factory=dict,
        help="For objective = 'mix': weight per objective name, e.g. {utilitarian = 1.0}",
    )
    phase1_iterations: int = param(
        50, help="Curriculum phase 1: agents learn under no tax for this many iterations", ge=0
    )
    anneal_iterations: int = param(
        50, help="Phase 2: iterations over which the maximum rate rises to 1", ge=0
    )
    initial_max_rate: float = param(
        0.1, help="Maximum rate allowed when phase 2 starts", ge=0, le=1
    )
    update_every: int = param(1, help="Planner updates once every this many iterations", ge=1)
    learning_rate: float = param(3e-3, help="Planner's Adam step size", gt=0, le=1)
    gamma: float = param(0.0, help="Planner's discount per decision", ge=0, le=1)
    ent_coef: float = param(0.02, help="Planner's entropy bonus at the start", ge=0)
    ent_coef_final: float = param(0.0, help="Planner's entropy bonus at the end", ge=0)
    hidden: int = param(64, help="Width of the planner's hidden layers", ge=4)
    low_rate_prior: float = param(
        0.0,
        help="Initial preference for low rates: each head's logits start at -prior x rate, so "
        "at 0 every allowed rate is equally likely and at 5 a rate of 0 is e^5 times as likely "
        "as 1; the planner then starts near the free market the agents grew up in",
        ge=0,
    )
    group_size: int = param(
        1,
        help="While the planner acts, training worlds come in groups of this many copies of "
        "one world (map, skills, start tiles) and its reward is measured against its group's "
        "mean: what it learns is what its rates did, not which world it drew (1: no groups)",
        ge=1,
    )
    num_minibatches: int | None = param(
        None,
        help="Minibatches per pass of the planner's update (default: the agents'); a planner "
        "deciding once per tax period sees few samples per iteration, so fewer, larger ones",
        ge=1,
    )

    def validate(self) -> None:
        if self.objective == "mix":
            if not self.weights:
                raise ValueError("objective = 'mix' needs weights, e.g. {utilitarian = 1.0}")
            bad = [k for k in self.weights if k not in OBJECTIVES[:-1]]
            if bad:
                raise ValueError(
                    f"weights: unknown objective {bad[0]!r}; allowed: {', '.join(OBJECTIVES[:-1])}"
                )
        elif self.weights:
            raise ValueError("weights are only used with objective = 'mix'")


def social_objective(
    name: str, coin: Tensor, utility: Tensor, weights: dict | None = None
) -> Tensor:
    """The planner's reward [B] from each agent's coin and utility over a period ([B, N]).

    Equality x productivity is measured on coin (the AI Economist's objective); the welfare
    functions on utility, which counts the labour agents gave up.
    """
    if name == "mix":
        return sum(w * social_objective(k, coin, utility) for k, w in (weights or {}).items())
    if name == "equality_times_productivity":
        return metrics.equality_times_productivity(coin.clamp(min=0))
    if name == "utilitarian":
        return metrics.utilitarian_welfare(utility)
    if name == "nash":
        return metrics.nash_welfare(utility)
    if name == "rawls":
        return metrics.rawls_welfare(utility)
    raise ValueError(f"unknown objective {name!r}; allowed: {', '.join(OBJECTIVES)}")


class Planner:
    """Sets a bracket tax's rates in all B worlds; learns by PPO on the social objective."""

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
    ):
        self.config = config
        self.num_agents, self.num_brackets = num_agents, num_brackets
        self.device = torch.device(device)
        self.grid = torch.linspace(0, 1, config.rate_levels, device=self.device)  # [L]
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
        """Mask rates above ``cap`` out of every head."""
        self.max_rate = cap
        allowed = self.grid <= cap + 1e-6  # [L]
        self.learner.logit_mask = allowed

    # -- acting -------------------------------------------------------------------------
    def observe(self, incomes: Tensor, rates: Tensor) -> Tensor:
        """incomes [B, N], rates [B, K] -> planner obs [B, 1, N + K + 1]."""
        cap = torch.full_like(rates[:, :1], self.max_rate)
        return torch.cat([torch.log1p(incomes.clamp(min=0)), rates, cap], -1)[:, None, :]

    def rates_of(self, actions: Tensor) -> Tensor:
        """actions [B, 1, K] grid indices -> rates [B, K]."""
        return self.grid[actions[:, 0, :]]

    def scaled(self, reward: Tensor) -> Tensor:
        """Objective [B] -> reward on a unit scale (scale fixed from the first batch)."""
        if self.reward_scale is None:
            self.reward_scale = 1.0 / (float(reward.abs().mean()) + 1e-8)
        return reward * self.reward_scale

    @torch.no_grad()
    def greedy_rates(self, incomes: Tensor, rates: Tensor) -> Tensor:
        """The planner's most likely schedule for each world [B, K]."""
        logits, _ = self.learner.forward(self.observe(incomes, rates))
        return self.grid[torch.stack([lg.argmax(-1) for lg in logits], -1)[:, 0, :]]

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
