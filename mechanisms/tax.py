"""Bracket income taxes, collected every ``period`` rounds, with the AI Economist's mechanics.

Income earned during a tax period is taxed at marginal rates per bracket: with cutoffs
``b_0 = 0 < b_1 < ... < b_{K-1}`` and rates ``tau_k``, the tax on income z is
``sum_k tau_k * clip(z - b_k, 0, b_{k+1} - b_k)``. Revenue goes to the institution's pool; put
``lump_sum`` after the tax to rebate it equally.

Rates are a tensor [B, K], one schedule per world, so a planner can set different rules in
each of the B worlds it learns from.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from coopsim.schema import param
from mechanisms.base import Flow, Mechanism, RoundContext

# The 2018 US federal single-filer schedule (cutoffs in dollars), as the AI Economist uses it
# with incomes scaled by 1/1000.
US_FEDERAL_2018_CUTOFFS = (0.0, 9_525.0, 38_700.0, 82_500.0, 157_500.0, 200_000.0, 500_000.0)
US_FEDERAL_2018_RATES = (0.10, 0.12, 0.22, 0.24, 0.32, 0.35, 0.37)


@dataclass
class TaxParams:
    schedule: str = param(
        "custom",
        help="Preset schedule; 'custom' uses the brackets and rates given here",
        choices=("custom", "flat", "us_federal_2018"),
    )
    brackets: list[float] = param(
        default_factory=lambda: [0.0],
        help="Lower cutoffs of the brackets, from 0, increasing",
        ge=0,
    )
    rates: list[float] = param(
        default_factory=lambda: [0.0], help="Marginal rate in each bracket", ge=0, le=1
    )
    period: int = param(1, help="Rounds per tax period (income is summed over the period)", ge=1)
    scale: float = param(
        1.0, help="Multiplies the bracket cutoffs (1/1000 turns dollars into coin)", gt=0
    )

    def validate(self) -> None:
        if self.schedule == "us_federal_2018":
            self.brackets = list(US_FEDERAL_2018_CUTOFFS)
            self.rates = list(US_FEDERAL_2018_RATES)
        if self.schedule == "flat" and len(self.rates) != 1:
            raise ValueError("a flat schedule takes exactly one rate")
        if self.schedule == "flat":
            self.brackets = [0.0]
        if len(self.brackets) != len(self.rates):
            raise ValueError(
                f"brackets and rates must have the same length (got {len(self.brackets)} and "
                f"{len(self.rates)})"
            )
        if self.brackets[0] != 0:
            raise ValueError("the first bracket must start at 0")
        if any(b2 <= b1 for b1, b2 in zip(self.brackets, self.brackets[1:])):
            raise ValueError("bracket cutoffs must be strictly increasing")


def bracket_tax(income: Tensor, cutoffs: Tensor, rates: Tensor) -> Tensor:
    """Tax owed on ``income`` [B, N] under ``cutoffs`` [K] and ``rates`` [B, K] -> [B, N]."""
    upper = torch.cat([cutoffs[1:], cutoffs.new_tensor([float("inf")])])  # [K]
    width = upper - cutoffs  # [K]
    in_bracket = (income[..., None] - cutoffs).clamp(min=0)  # [B, N, K]
    in_bracket = torch.minimum(in_bracket, width)
    return (in_bracket * rates[:, None, :]).sum(-1)


class BracketTax(Mechanism):
    kind = "tax"
    Params = TaxParams
    summary = "Income tax with marginal rates per bracket, collected each tax period."

    def __init__(self, params: TaxParams, num_agents: int, batch_size: int, device: torch.device):
        super().__init__(params, num_agents, batch_size, device)
        self.cutoffs = (
            torch.tensor(params.brackets, dtype=torch.float32, device=self.device) * params.scale
        )
        base = torch.tensor(params.rates, dtype=torch.float32, device=self.device)
        self.rates = base.expand(batch_size, -1).clone()  # [B, K]
        self.income = torch.zeros(batch_size, num_agents, device=self.device)  # [B, N] this period

    @property
    def num_brackets(self) -> int:
        return self.cutoffs.numel()

    def set_rates(self, rates: Tensor) -> None:
        """Install new marginal rates [B, K] (or [K]) from the next collection on."""
        self.rates = rates.to(self.device, torch.float32).expand(self.batch_size, -1).clone()

    def reset(self) -> None:
        self.income.zero_()

    def apply(self, ctx: RoundContext) -> Flow:
        self.income += ctx.income.clamp(min=0)
        period_over = (ctx.round + 1) % self.params.period == 0 or ctx.round + 1 == ctx.rounds
        if not period_over:
            return self._zeros()
        tax = bracket_tax(self.income, self.cutoffs, self.rates)  # [B, N]
        self.income.zero_()
        zero = torch.zeros(tax.shape[0], device=tax.device)
        return Flow(-tax, tax.sum(-1), zero)

    @property
    def obs_dim(self) -> int:
        return self.num_brackets

    def observation(self) -> Tensor:
        return self.rates[:, None, :].expand(-1, self.num_agents, -1)

    def describe(self) -> str:
        cuts = self.cutoffs.tolist()
        rates = self.rates[0].tolist()
        parts = [f"{r:.0%} above {c:g}" for c, r in zip(cuts, rates)]
        return f"Bracket income tax every {self.params.period} round(s): " + ", ".join(parts) + "."
