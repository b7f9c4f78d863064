"""Redistribution: pay out what the institution collected, or the public good's pot.

The lump-sum rebate shares the pool equally among agents, as the AI Economist rebates its
tax revenue. Placed after a tax or a fine in the pipeline, it makes that mechanism budget
neutral.

The redistribution family (``kind = "redistribution"``) covers the mechanism space of Democratic
AI (Koster et al. 2022, Nature Human Behaviour): the public good's pot, the multiplied
contributions ``r * sum_j c_j``, is paid out in shares

    s_i = w / N + (1 - w) * (v * c_i / sum_j c_j + (1 - v) * (c_i / e_i) / sum_j (c_j / e_j))

a mix, by ``w``, of equal shares and contribution-based ones, the latter a mix, by ``v``, of
absolute contributions and contributions relative to each agent's endowment. Its corners are
the paper's canonical mechanisms: strict egalitarian (w = 1), libertarian (w = 0, v = 1) and
liberal egalitarian (w = 0, v = 0). A round nobody contributed to is shared equally. The world
has already paid each agent its equal share, so the mechanism moves only the difference: it
pays out exactly the pot, and its books balance with nothing in the pool or from outside.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from mechanisms.base import Flow, Mechanism, MoneyBounds, RoundContext
from mechanisms.params import param

#: Democratic AI's canonical mechanisms as settings of (w, v).
PRESETS: dict[str, dict[str, float]] = {
    "strict_egalitarian": {"w": 1.0, "v": 0.0},
    "libertarian": {"w": 0.0, "v": 1.0},
    "liberal_egalitarian": {"w": 0.0, "v": 0.0},
}


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


@dataclass
class RedistributionParams:
    preset: str = param(
        "custom",
        help="A canonical mechanism of Democratic AI, setting w and v; 'custom' uses w and v",
        choices=("custom", *PRESETS),
    )
    w: float = param(1.0, help="Weight of equal shares (the rest goes by contribution)", ge=0, le=1)
    v: float = param(
        0.0,
        help="Of the contribution-based part, the weight of absolute contributions (the rest "
        "goes by contributions relative to each agent's endowment)",
        ge=0,
        le=1,
    )

    def validate(self) -> None:
        if self.preset != "custom":
            self.w, self.v = PRESETS[self.preset]["w"], PRESETS[self.preset]["v"]


class Redistribution(Mechanism):
    kind = "redistribution"
    Params = RedistributionParams
    summary = (
        "Redistribution of the public good's pot: a mix of equal shares and shares by absolute "
        "or relative contribution (Democratic AI's mechanism space)."
    )
    worlds = ("public_goods",)
    controllable = ("w", "v")
    presets = PRESETS

    def __init__(self, params: RedistributionParams, num_agents: int, batch_size: int, device):
        super().__init__(params, num_agents, batch_size, device)
        self.w = self.per_world(params.w)[:, 0]  # [B]
        self.v = self.per_world(params.v)[:, 0]  # [B]

    def control(self, name: str) -> Tensor:
        return (self.w if name == "w" else self.v)[:, None]  # [B, 1]

    def set_control(self, name: str, values: Tensor) -> None:
        if name == "w":
            self.w = self.per_world(values)[:, 0]
        else:
            self.v = self.per_world(values)[:, 0]

    def replicate(self, source: Tensor) -> None:
        self.w, self.v = self.w[source].clone(), self.v[source].clone()

    def shares(self, contributions: Tensor, endowment: float | Tensor) -> Tensor:
        """Each agent's share of the pot [B, N] (rows sum to 1) from contributions [B, N]."""
        n = self.num_agents
        equal = torch.full_like(contributions, 1.0 / n)
        relative = contributions / torch.as_tensor(endowment, device=contributions.device)

        def normalised(x: Tensor) -> Tensor:  # [B, N] -> shares; equal where all are zero
            total = x.sum(-1, keepdim=True)
            return torch.where(total > 0, x / total.clamp(min=1e-12), equal)

        w, v = self.w[:, None], self.v[:, None]  # [B, 1]
        by_contribution = v * normalised(contributions) + (1 - v) * normalised(relative)
        return w * equal + (1 - w) * by_contribution

    def apply(self, ctx: RoundContext) -> Flow:
        if ctx.contributions is None or ctx.multiplier is None:
            raise ValueError("redistribution needs a public-goods world")
        pot = ctx.multiplier * ctx.contributions.sum(-1, keepdim=True)  # [B, 1]
        paid = pot * self.shares(ctx.contributions, ctx.endowment)  # [B, N]
        transfer = paid - pot / self.num_agents  # the world paid the equal share already
        zero = torch.zeros(self.batch_size, device=self.device)
        return Flow(transfer, zero, zero.clone())

    def transfer_bound(self, bounds: MoneyBounds) -> float:
        return bounds.multiplier * bounds.num_agents * bounds.endowment  # the whole pot

    @property
    def obs_dim(self) -> int:
        return 2

    def observation(self) -> Tensor:
        """[B, N, 2] w and v in force: agents see the rule the pot will be shared by."""
        return torch.stack([self.w, self.v], -1)[:, None, :].expand(-1, self.num_agents, 2)

    def read_observation(self, seen: Tensor) -> None:
        self.w = self.per_world(seen[:, :1])[:, 0]
        self.v = self.per_world(seen[:, 1:2])[:, 0]

    def observation_bounds(self, bounds: MoneyBounds) -> tuple[list[float], list[float]]:
        return [0.0, 0.0], [1.0, 1.0]

    def describe(self) -> str:
        w, v = float(self.w[0]), float(self.v[0])
        named = next((k for k, p in PRESETS.items() if (p["w"], p["v"]) == (w, v)), None)
        mix = (
            f"{w:.0%} in equal shares, {1 - w:.0%} by contribution ({v:.0%} absolute, "
            f"{1 - v:.0%} relative to endowment)"
        )
        return f"Redistribution of the pot: {mix}" + (
            f" ({named.replace('_', ' ')})." if named else "."
        )
