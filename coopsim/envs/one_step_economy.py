"""The one-step tax economy (Zheng et al. 2022, "simple one-step economies"), batched.

Each of N agents has a fixed skill s_i (coin earned per hour of labour) and, in the single step
of an episode, chooses how many hours l_i to work from a grid of ``labour_levels`` choices
``0, max_labour / (L-1), ..., max_labour``. Its pre-tax income is ``z_i = s_i * l_i``. Income
goes through the mechanism pipeline (in the ready scenarios: a bracket tax, then a lump-sum
rebate of the revenue), and the agent keeps ``coin_i = net_i``. Its utility is isoelastic in
coin minus a linear cost of labour,

    u_i = (coin_i^(1 - eta) - 1) / (1 - eta) - labour_cost * labour_scale * l_i,

and its reward is that utility. The episode is one round, so the economy isolates the question
the AI Economist's planner answers in the full gather-trade-build world: which marginal rates
trade equality against the labour they discourage. Because everything is static, the
welfare-optimal schedule can be found exactly by search
(:func:`coopsim.analysis.optimal_schedule`), a yardstick a learning planner can be held to.

Skills are the same in every world and episode (the economy is one society, replayed), either
given in the scenario or, by default, the quantiles of the AI Economist's skill distribution:
a Pareto of shape ``pareto_alpha`` scaled to start at ``min_skill`` and clipped at
``max_skill``. ``skill_seed`` draws them at random from that distribution instead.

Agents observe their own skill (as a share of ``max_skill``), the labour-cost warm-up factor and
whatever the mechanisms show (the tax's current rates), so a shared policy can best-respond to
the rates a planner sets in each world. ``labour_scale`` is the curriculum's warm-up factor
(:meth:`OneStepEconomyWorld.set_labour_scale`): agents first learn that work pays while it is
cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from coopsim.envs.base import Step, World, WorldSpec
from coopsim.envs.observation import ObsLayout, layout_bounds
from coopsim.envs.utility import isoelastic
from coopsim.schema import param
from mechanisms.base import MoneyBounds, Pipeline, RoundContext


@dataclass
class OneStepEconomyConfig:
    kind: str = param("one_step_economy", help="World type", choices=("one_step_economy",))
    num_agents: int = param(4, help="Number of agents N", ge=1, le=1024)
    # Income is skill x hours: at most 1e3 x 1e4 = 1e7 coin per agent, whose square (the
    # inequality measures) and isoelastic utility stay far inside float32.
    skills: list[float] | None = param(
        None,
        help="Coin per hour of labour, one per agent; Pareto quantiles when not given",
        gt=0,
        le=1e3,
    )
    min_skill: float = param(1.0, help="Lowest skill of the Pareto distribution", gt=0, le=1e3)
    max_skill: float = param(
        3.0, help="Skills are clipped at this (and observed relative to it)", gt=0, le=1e3
    )
    pareto_alpha: float = param(
        4.0,
        help="Shape of the Pareto distribution of skills",
        ge=0.01,  # below, (1 - u) ** (-1 / alpha) overflows float64 for most quantiles
        le=1e3,
    )
    skill_seed: int | None = param(
        None,
        help="Draw the skills at random with this seed instead of taking quantiles",
        ge=0,
        le=2**32 - 1,  # a seed's range everywhere in a scenario
    )
    labour_levels: int = param(
        11,
        help="Labour choices, evenly spaced from 0 to max_labour",
        ge=2,
        le=1001,  # the policy's action head has one output per level
    )
    max_labour: float = param(100.0, help="Most hours an agent can work", gt=0, le=1e4)
    labour_cost: float = param(
        0.3,
        help="Utility cost of one hour of labour",
        ge=0,
        le=1e3,  # x 1e4 hours: a disutility of 1e7, the scale of the largest income
    )
    eta: float = param(0.23, help="Isoelastic utility curvature of coin", ge=0, lt=1)

    def validate(self) -> None:
        if self.min_skill > self.max_skill:
            raise ValueError(
                f"min_skill ({self.min_skill}) must be <= max_skill ({self.max_skill})"
            )
        if self.skills is not None:
            if len(self.skills) != self.num_agents:
                raise ValueError(
                    f"skills needs one value per agent ({self.num_agents}), got {len(self.skills)}"
                )
            if max(self.skills) > self.max_skill:
                raise ValueError(f"skills must be <= max_skill = {self.max_skill}")


def default_skills(config: OneStepEconomyConfig) -> list[float]:
    """The agents' skills, lowest first: given, drawn from ``skill_seed``, or quantiles.

    Without a seed, agent i gets the (i + 1/2)/N quantile of the clipped Pareto distribution,
    so the society's spread is the distribution's and no draw can make it degenerate.
    """
    c = config
    if c.skills is not None:
        return [float(s) for s in c.skills]
    n = c.num_agents
    if c.skill_seed is not None:
        u = np.sort(np.random.default_rng(c.skill_seed).random(n))
    else:
        u = (np.arange(n) + 0.5) / n
    pareto = c.min_skill * (1.0 - u) ** (-1.0 / c.pareto_alpha)  # inverse CDF
    return np.minimum(pareto, c.max_skill).tolist()


class OneStepEconomyWorld(World):
    """N agents choose labour once; income is taxed and rebated by the pipeline."""

    kind = "one_step_economy"
    summary = "one choice of working hours under a tax"
    info_keys = ("labour", "income", "gross", "net", "utility")

    def __init__(
        self,
        config: OneStepEconomyConfig,
        pipeline: Pipeline | None = None,
        batch_size: int = 1,
        device: str | torch.device = "cpu",
    ):
        self.config = c = config
        self.pipeline = pipeline or Pipeline([])
        if self.pipeline.needs_sanction_stage:
            raise ValueError("the one-step economy has no sanction stage")
        if self.pipeline.action_heads():
            raise ValueError("the one-step economy's mechanisms may not add action heads")
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.labour_scale = 1.0  # warm-up factor on the labour cost, set by a curriculum
        n = c.num_agents
        self.skills = torch.tensor(
            default_skills(c), dtype=torch.float32, device=self.device
        )  # [N]
        self.hours = torch.linspace(0, c.max_labour, c.labour_levels, device=self.device)  # [L]
        self.layout = ObsLayout(
            [
                ("skill", 1),  # own skill / max_skill
                ("labour_scale", 1),  # the curriculum's warm-up factor on the labour cost
                ("mechanisms", self.pipeline.obs_dim),  # e.g. the current marginal rates
            ]
        )
        self.spec = WorldSpec(
            num_agents=n,
            obs_dim=self.layout.size,
            action_nvec=(c.labour_levels,),
            horizon=1,
            obs_fields=self.layout.slices,
            head_names=("labour",),
        )
        self._t = 0
        self.reset(seed=0)

    def set_labour_scale(self, scale: float) -> None:
        """The labour-cost warm-up factor (0 = labour is free, 1 = full cost)."""
        if not 0.0 <= scale <= 1.0:
            raise ValueError(f"labour scale must be in [0, 1], got {scale}")
        self.labour_scale = float(scale)

    def observation_bounds(self) -> tuple[Tensor, Tensor]:
        """Skill share and warm-up factor lie in [0, 1]; income is at most max_labour x
        max_skill, which bounds what the mechanisms show of it."""
        c = self.config
        top = c.max_labour * c.max_skill
        money = MoneyBounds(top, top, 1, c.num_agents)
        return layout_bounds(
            self.layout,
            {
                "skill": (0.0, 1.0),
                "labour_scale": (0.0, 1.0),
                "mechanisms": self.pipeline.observation_bounds(money),
            },
        )

    # -- state ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> Tensor:
        self.gen = self.make_generator(seed)
        self._t = 0
        self.pipeline.reset()
        return self._observe()

    # -- dynamics -------------------------------------------------------------------------
    def step(self, actions: Tensor) -> Step:
        labour = self.hours[actions[..., 0].long()]  # [B, N] hours
        income = labour * self.skills  # [B, N] pre-tax coin
        info = {"labour": labour, "income": income, "gross": income}
        if len(self.pipeline):
            ctx = RoundContext(gross=income, income=income, round=0, rounds=1)
            flows = self.pipeline.apply(ctx)
            for label, flow in flows.items():
                info[f"transfer_{label}"] = flow.transfer
            net = ctx.net  # [B, N]
        else:  # no mechanism moves money: net is gross (a copy, so the two stay independent)
            flows, net = {}, income.clone()
        utility = self.utility(net, labour)  # [B, N]
        info["net"] = net
        info["utility"] = utility
        self._t += 1
        done = torch.ones(self.batch_size, dtype=torch.bool, device=self.device)
        return Step(self._observe(), utility, done, info, round_end=True, flows=flows)

    def utility(self, coin: Tensor, labour: Tensor) -> Tensor:
        """[B, N] isoelastic utility of ``coin`` minus the (warmed-up) cost of ``labour``."""
        c = self.config
        return isoelastic(coin, c.eta) - (c.labour_cost * self.labour_scale) * labour

    def observe(self) -> Tensor:
        """The current observation [B, N, obs_dim], without stepping.

        The trainer calls it after a planner installs new rates at the start of a period, so
        agents decide under the rates they will be taxed at: in a one-step episode the
        observation made at reset predates them.
        """
        return self._observe()

    def _observe(self) -> Tensor:
        """[B, N, obs_dim]: own skill / max_skill, the labour-cost scale, the mechanisms' view."""
        b, n = self.batch_size, self.config.num_agents
        own = (self.skills / self.config.max_skill)[None, :, None].expand(b, n, 1)  # [B, N, 1]
        scale = torch.full((b, n, 1), self.labour_scale, device=self.device)  # [B, N, 1]
        mech = self.pipeline.observation(b, n, self.device)  # [B, N, m]
        return torch.cat([own, scale, mech], dim=-1)
