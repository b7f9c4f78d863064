"""Redistribution: pay out what the institution collected.

The lump-sum rebate shares the pool equally among agents, as the AI Economist rebates its
tax revenue. Placed after a tax or a fine in the pipeline, it makes that mechanism budget
neutral.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from mechanisms.base import Flow, Mechanism, MoneyBounds, RoundContext
from mechanisms.params import param


@dataclass
class LumpSumParams:
    share: float = param(
        1.0, help="Fraction of the collected pool paid back each round", ge=0, le=1
    )


class LumpSum(Mechanism):
    kind = "lump_sum"
    Params = LumpSumParams
    summary = "Lump-sum rebate: the pool is shared equally among agents."

    def apply(self, ctx: RoundContext) -> Flow:
        payout = self.params.share * ctx.pool  # [B]
        transfer = (payout / self.num_agents)[:, None].expand(-1, self.num_agents).clone()
        return Flow(transfer, -payout, payout * 0)

    def accrued(self, pool: Tensor) -> tuple[Tensor | None, Tensor]:
        payout = self.params.share * pool  # [B] what it would pay out of what has accrued
        transfer = (payout / self.num_agents)[:, None].expand(-1, self.num_agents)
        return transfer, pool - payout

    def transfer_bound(self, bounds: MoneyBounds) -> float:
        return bounds.pool / self.num_agents

    def describe(self) -> str:
        return f"Equal lump-sum rebate of {self.params.share:.0%} of what was collected."
