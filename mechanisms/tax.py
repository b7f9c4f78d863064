"""Bracket income taxes, collected every ``period`` rounds, with the AI Economist's mechanics.

Income earned during a tax period is taxed at marginal rates per bracket: with cutoffs
``b_0 = 0 < b_1 < ... < b_{K-1}`` and rates ``tau_k``, the tax on income z is
``sum_k tau_k * clip(z - b_k, 0, b_{k+1} - b_k)``. Revenue goes to the institution's pool; put
``lump_sum`` after the tax to rebate it equally.

Taxable income (``income``) is by default the coin earned in the period; ``net_coin`` is the
AI Economist's: the change of an agent's coin over the period, so what it spent buying wood
and stone is deducted, and a period of net buying owes nothing. ``cap = "liquid"`` never takes
more than the coin an agent holds at collection (escrow excluded), as the reference does.

Rates are a tensor [B, K], one schedule per world, so a planner can set different rules in
each of the B worlds it learns from.

Schedules (``schedule``): ``custom`` takes the brackets and rates as given (all-zero rates are
the free market), ``flat`` one rate on all income, ``us_federal_2018`` the 2018 US federal
single-filer schedule (``scale = 0.001`` turns its dollars into coin, as the AI Economist does),
and ``saez`` the Saez (2001) optimal-tax formula applied to the incomes the tax has observed
(:class:`SaezSchedule`): a baseline that adapts, as the AI Economist's Saez planner does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from mechanisms.base import ControlSpec, Flow, Mechanism, MoneyBounds, RoundContext
from mechanisms.brackets import bracket_tax, marginal_rates
from mechanisms.params import param
from mechanisms.saez import SaezSchedule

# Worlds whose rounds report the coin each agent holds (RoundContext.liquid), which a tax with
# cap = 'liquid' caps at.
LIQUID_WORLDS = ("economy",)

# The 2018 US federal single-filer schedule (cutoffs in dollars), as the AI Economist uses it
# with incomes scaled by 1/1000.
US_FEDERAL_2018_CUTOFFS = (0.0, 9_525.0, 38_700.0, 82_500.0, 157_500.0, 200_000.0, 500_000.0)
US_FEDERAL_2018_RATES = (0.10, 0.12, 0.22, 0.24, 0.32, 0.35, 0.37)


@dataclass
class TaxParams:
    schedule: str = param(
        "custom",
        help="Preset schedule; 'custom' uses the brackets and rates given here",
        choices=("custom", "flat", "us_federal_2018", "saez"),
    )
    brackets: list[float] = param(
        default_factory=lambda: [0.0],
        help="Lower cutoffs of the brackets, from 0, increasing",
        ge=0,
        le=1e12,  # each element; x scale (<= 1e6) a cutoff stays far inside float32
        overflow_limit=True,
    )
    rates: list[float] = param(
        default_factory=lambda: [0.0], help="Marginal rate in each bracket", ge=0, le=1
    )
    period: int = param(
        1, help="Rounds per tax period (income is summed over the period)", ge=1, le=100_000
    )
    scale: float = param(
        1.0,
        help="Multiplies the bracket cutoffs (1/1000 turns dollars into coin)",
        gt=0,
        le=1e6,
        overflow_limit=True,
    )
    elasticity: float = param(
        0.5,
        help="Saez: elasticity of taxable income assumed before the data show any (the prior)",
        ge=0,
        le=100,  # Saez's top rate 1 / (1 + a e) is already ~0 long before
        overflow_limit=True,
    )
    estimate_elasticity: bool = param(
        True, help="Saez: estimate the elasticity from observed incomes (else keep the prior)"
    )
    elasticity_smoothing: float = param(
        0.98,
        help="Saez: weight kept by the running elasticity estimate at each update (the rest "
        "goes to the latest regression)",
        ge=0,
        lt=1,
    )
    saez_formula: str = param(
        "cutoff",
        help="Saez: 'cutoff' evaluates the formula at each bracket's lower cutoff from the mean "
        "income above it; 'binned' is the AI Economist's (100 income bins, rates averaged over "
        "each bracket, 100% at the top when nobody reaches it)",
        choices=("cutoff", "binned"),
    )
    elasticity_estimator: str = param(
        "within",
        help="Saez: 'within' regresses log income within agents at each one's typical income; "
        "'pooled' is the AI Economist's one regression over all incomes above 0 at the rate "
        "each was earned under",
        choices=("within", "pooled"),
    )
    memory: int = param(
        8192,
        help="Saez: most recent income observations (agent x period) kept",
        ge=1,
        le=10_000_000,  # a buffer of this many floats is allocated up front
        overflow_limit=True,
    )
    income: str = param(
        "earned",
        help="Taxable income of a period: 'earned' (coin earned, purchases not deducted) or "
        "'net_coin' (the change of coin held over the period before taxes, purchases "
        "deducted, as the AI Economist computes it)",
        choices=("earned", "net_coin"),
    )
    anneal_episodes: int = param(
        0,
        help="Episodes over which the highest rate allowed rises linearly from anneal_from to "
        "1 (0: no cap); rates above it are cut to it, as the AI Economist anneals the top rate "
        "of every tax model",
        ge=0,
        le=10_000_000,
    )
    anneal_from: float = param(
        0.1,
        help="The highest rate allowed before any episode has ended (with anneal_episodes)",
        ge=0,
        le=1,
    )
    cap: str = param(
        "none",
        help="'liquid': the tax never exceeds the coin an agent holds at collection, escrow "
        "excluded (the AI Economist); needs a world that reports holdings (the economy)",
        choices=("none", "liquid"),
    )

    def validate(self) -> None:
        if self.schedule == "us_federal_2018":
            self.brackets = list(US_FEDERAL_2018_CUTOFFS)
            self.rates = list(US_FEDERAL_2018_RATES)
        if self.schedule == "flat" and len(self.rates) != 1:
            raise ValueError("rates: a flat schedule takes exactly one rate")
        if self.schedule == "flat":
            self.brackets = [0.0]
        if self.schedule == "saez" and self.rates == [0.0]:
            self.rates = [0.0] * len(self.brackets)  # rates before any income is observed
        if len(self.brackets) != len(self.rates):
            raise ValueError(
                f"brackets and rates must have the same length (got {len(self.brackets)} and "
                f"{len(self.rates)})"
            )
        if self.brackets[0] != 0:
            raise ValueError("brackets: the first bracket must start at 0")
        if any(b2 <= b1 for b1, b2 in zip(self.brackets, self.brackets[1:])):
            raise ValueError("brackets: the cutoffs must be strictly increasing")


class BracketTax(Mechanism):
    kind = "tax"
    Params = TaxParams
    summary = "Income tax with marginal rates per bracket, collected each tax period."
    controllable = ("rates",)

    @classmethod
    def world_refusal(cls, params: Any, world: str) -> tuple[str, str] | None:
        if params.cap == "liquid" and world not in LIQUID_WORLDS:
            return "cap", (
                f"got 'liquid', which needs a world that reports the coin agents hold "
                f"({', '.join(LIQUID_WORLDS)}); use cap = 'none' in a {world!r} world"
            )
        return None

    def __init__(self, params: TaxParams, num_agents: int, batch_size: int, device: torch.device):
        super().__init__(params, num_agents, batch_size, device)
        self.cutoffs = (
            torch.tensor(params.brackets, dtype=torch.float32, device=self.device) * params.scale
        )
        base = torch.tensor(params.rates, dtype=torch.float32, device=self.device)
        self.episodes = 0  # episodes ended: the annealed cap's clock
        self.uncapped = base.expand(batch_size, -1).clone()  # [B, K] before the cap
        self.rates = self.uncapped.clamp(max=self.max_rate)  # [B, K] in force
        self.income = torch.zeros(batch_size, num_agents, device=self.device)  # [B, N] this period
        # The Saez schedule's learned state; None for fixed schedules.
        self.saez: SaezSchedule | None = (
            SaezSchedule(params, num_agents, self.cutoffs, self.device)
            if params.schedule == "saez"
            else None
        )

    @property
    def num_brackets(self) -> int:
        return self.cutoffs.numel()

    @property
    def max_rate(self) -> float:
        """The highest rate allowed now: with ``anneal_episodes``, ``anneal_from`` before the
        first episode ends, rising linearly to 1 over ``anneal_episodes`` ended episodes (the
        AI Economist's ``tax_annealing_schedule`` caps the rates of every tax model, US
        federal and Saez included, so agents meet high taxes only after learning to work);
        1 without. Counting its own episodes, a tax forked into phase 2 anneals from there."""
        p = self.params
        if p.anneal_episodes == 0:
            return 1.0
        frac = min(1.0, self.episodes / p.anneal_episodes)
        return p.anneal_from + frac * (1.0 - p.anneal_from)

    def set_rates(self, rates: Tensor) -> None:
        """Install new marginal rates [B, K] (or [K]) from the next collection on (cut to
        :attr:`max_rate`, as the reference's ``curr_marginal_rates`` are)."""
        self.uncapped = rates.to(self.device, torch.float32).expand(self.batch_size, -1).clone()
        self.rates = self.uncapped.clamp(max=self.max_rate)

    # -- the declared interface: period, a planner's controls, what a Saez schedule learns --
    @classmethod
    def period_of(cls, params: TaxParams) -> int:
        return params.period

    @classmethod
    def control_specs(cls, params: TaxParams) -> dict[str, ControlSpec]:
        """One marginal rate per bracket, each in [0, 1]."""
        return {"rates": ControlSpec(len(params.brackets), 0.0, 1.0)}

    @classmethod
    def planner_refusal(cls, params: TaxParams) -> str | None:
        if params.schedule == "saez":
            return "a 'saez' tax sets its own rates; a planner needs a tax whose rates it can set"
        return None

    @classmethod
    def control_fields(cls, params: TaxParams) -> tuple[str, ...]:
        return ("rates",) if cls.planner_refusal(params) is None else ()

    def control(self, name: str) -> Tensor:
        return self.rates  # [B, K]

    def set_control(self, name: str, values: Tensor) -> None:
        self.set_rates(values)

    def training_log(self) -> dict[str, float]:
        """A Saez schedule's rates (``rate_k``, world 0's) and its elasticity estimate, as a
        planner's rates are logged; nothing for a fixed schedule."""
        if self.saez is None:
            return {}
        log = {f"rate_{k}": r for k, r in enumerate(self.rates[0].tolist())}
        log["elasticity"] = self.saez.elasticity
        return log

    def adopt(self, other: BracketTax) -> None:
        """Take over what ``other`` (the same tax in another world) has learned.

        For a Saez schedule: its buffer, elasticity estimate and current rates, so a fresh
        evaluation world taxes as the training world's schedule had come to. Fixed schedules
        have nothing learned; a planner's rates are installed with :meth:`set_rates`.
        """
        self.episodes = other.episodes  # the annealed cap training reached
        if other.saez is not None:
            self.saez = other.saez.clone()
            self.set_rates(self.saez.schedule)
        else:
            self.set_rates(self.uncapped)

    def replicate(self, source: Tensor) -> None:
        self.income = self.income[source].clone()
        self.rates = self.rates[source].clone()
        self.uncapped = self.uncapped[source].clone()

    def accrued(self, pool: Tensor) -> tuple[Tensor | None, Tensor]:
        owed = bracket_tax(self.income, self.cutoffs, self.rates)  # [B, N] on income so far
        return -owed, pool + owed.sum(-1)

    def state_dict(self) -> dict:
        """The rates in force and a Saez schedule's learned state, for checkpoints."""
        return {
            "rates": self.uncapped.clone(),
            "saez": self.saez.state_dict() if self.saez else None,
            "episodes": self.episodes,
        }

    def load_state_dict(self, state: dict) -> None:
        self.episodes = int(state.get("episodes", 0))  # checkpoints before annealing: 0
        self.set_rates(state["rates"])
        if self.saez is not None and state.get("saez") is not None:
            self.saez.load_state_dict(state["saez"])

    def reset(self) -> None:
        """A new episode: forget this period's income (a Saez schedule keeps what it learned)
        and install the annealed cap the episodes ended so far allow."""
        self.income.zero_()
        if self.params.anneal_episodes:
            self.rates = self.uncapped.clamp(max=self.max_rate)

    def apply(self, ctx: RoundContext) -> Flow:
        net_coin = self.params.income == "net_coin"
        self.income += ctx.gross if net_coin else ctx.income.clamp(min=0)
        period_over = (ctx.round + 1) % self.params.period == 0 or ctx.round + 1 == ctx.rounds
        if not period_over:
            return self._zeros()
        tax = bracket_tax(self.income, self.cutoffs, self.rates)  # [B, N]
        if self.params.cap == "liquid":
            if ctx.liquid is None:
                raise ValueError(
                    "tax cap = 'liquid' needs a world that reports the coin agents hold "
                    "(the economy); use cap = 'none' here"
                )
            tax = torch.minimum(tax, ctx.liquid.clamp(min=0))
        if self.saez is not None:  # learn from this period, then set next period's rates
            self.saez.observe(self.income, self.rates)
            self.set_rates(self.saez.update())
        self.income.zero_()
        if ctx.round + 1 == ctx.rounds:
            self.episodes += 1
        zero = torch.zeros(tax.shape[0], device=tax.device)
        return Flow(-tax, tax.sum(-1), zero)

    def _round_income_bound(self, bounds: MoneyBounds) -> float:
        """Largest |taxable income| of one agent in one round."""
        return bounds.gross if self.params.income == "net_coin" else bounds.income

    def transfer_bound(self, bounds: MoneyBounds) -> float:
        return self.params.period * self._round_income_bound(bounds)  # rates are at most 1

    @property
    def obs_dim(self) -> int:
        return self.num_brackets + 2

    def observation_bounds(self, bounds: MoneyBounds) -> tuple[list[float], list[float]]:
        k = self.num_brackets  # rates and the marginal rate lie in [0, 1]; income is /100
        high_income = min(self.params.period, bounds.rounds) * self._round_income_bound(bounds)
        high_income /= 100
        low_income = -high_income if self.params.income == "net_coin" else 0.0  # purchases
        return [0.0] * (k + 1) + [low_income], [1.0] * (k + 1) + [high_income]

    def observation(self) -> Tensor:
        """Every rate, then the agent's own position: the marginal rate on its next coin of
        income this period, and that income (/100); without them an agent must infer its
        bracket from income it cannot see."""
        rates = self.rates[:, None, :].expand(-1, self.num_agents, -1)  # [B, N, K]
        marginal = marginal_rates(self.income, self.cutoffs, self.rates)  # [B, N]
        return torch.cat([rates, marginal[..., None], self.income[..., None] / 100], -1)

    def describe(self) -> str:
        cuts = self.cutoffs.tolist()
        rates = self.rates[0].tolist()
        parts = [f"{r:.0%} above {c:g}" for c, r in zip(cuts, rates)]
        kind = "Saez-formula" if self.saez is not None else "Bracket"
        return f"{kind} income tax every {self.params.period} round(s): " + ", ".join(parts) + "."
