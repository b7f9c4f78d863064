"""Subsidies for the public good: matching funds and a provision point.

With matching at rate m, a sponsor adds m for every unit contributed before the pot is
multiplied, so a contributed unit returns r(1+m)/N to the contributor: above 1, giving
everything becomes each agent's best response.

A provision point (Isaac, Schmidtz & Walker 1989) provides the good only when total contributions
reach a threshold; with the money-back guarantee contributions are refunded otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from mechanisms.base import Flow, Mechanism, MoneyBounds, RoundContext, declared_bounds
from mechanisms.params import param


@dataclass
class MatchingParams:
    rate: float = param(1.0, help="Sponsor's match per unit contributed (m)", ge=0, le=100)
    observed: bool = param(
        False,
        help="Agents see the rate in force (needed when a planner changes it: agents that "
        "cannot see the rules cannot answer them)",
    )


class MatchingFunds(Mechanism):
    kind = "matching"
    Params = MatchingParams
    summary = "Matching funds: a sponsor matches every contribution at a fixed rate."
    worlds = ("public_goods",)
    controllable = ("rate",)

    def __init__(self, params: MatchingParams, num_agents: int, batch_size: int, device):
        super().__init__(params, num_agents, batch_size, device)
        self.rate = self.per_world(params.rate)[:, 0]  # [B] match per unit, per world

    def control(self, name: str) -> Tensor:
        return self.rate[:, None]  # [B, 1]

    def set_control(self, name: str, values: Tensor) -> None:
        self.rate = self.per_world(values)[:, 0]

    def replicate(self, source: Tensor) -> None:
        self.rate = self.rate[source].clone()

    def apply(self, ctx: RoundContext) -> Flow:
        if ctx.contributions is None or ctx.multiplier is None:
            raise ValueError("matching needs a public-goods world")
        matched = self.rate * ctx.contributions.sum(-1)  # [B] sponsor's outlay
        value = ctx.multiplier * matched  # [B] the matched money, multiplied in the pot
        share = (value / self.num_agents)[:, None].expand_as(ctx.contributions)
        zero = torch.zeros_like(matched)
        return Flow(share.clone(), zero, value, outlay=matched)

    def transfer_bound(self, bounds: MoneyBounds) -> float:
        return bounds.multiplier * float(self.rate.max()) * bounds.endowment

    @property
    def obs_dim(self) -> int:
        return 1 if self.params.observed else 0

    def observation(self) -> Tensor:
        """[B, N, obs_dim] the rate in force, where agents see it."""
        return self.rate[:, None, None].expand(-1, self.num_agents, self.obs_dim)

    def read_observation(self, seen: Tensor) -> None:
        if self.obs_dim:
            self.rate = self.per_world(seen[:, :1])[:, 0]

    def observation_bounds(self, bounds: MoneyBounds) -> tuple[list[float], list[float]]:
        _, high = declared_bounds(MatchingParams, "rate")
        return [0.0] * self.obs_dim, [float(high)] * self.obs_dim

    def describe(self) -> str:
        return (
            f"Matching funds: a sponsor adds {float(self.rate[0]):g} to the pot for every unit "
            "contributed; the matched money is multiplied with the pot and shared equally, so "
            "each seat gets its share whatever it gave."
        )


@dataclass
class ProvisionPointParams:
    threshold: float = param(
        0.5,
        help="Total contribution needed, as a fraction of the group's total endowment",
        gt=0,
        le=1,
    )
    refund: bool = param(
        True, help="Money-back guarantee: refund contributions if the threshold is missed"
    )


class ProvisionPoint(Mechanism):
    kind = "provision_point"
    Params = ProvisionPointParams
    summary = "Provision point: the good is provided only if contributions reach a threshold."
    worlds = ("public_goods",)

    def apply(self, ctx: RoundContext) -> Flow:
        if ctx.contributions is None or ctx.multiplier is None:
            raise ValueError("provision_point needs a public-goods world")
        c = ctx.contributions  # [B, N]
        total = c.sum(-1)
        # the group's endowment: N x E, or the seats' own endowments summed where they differ
        group = (
            float(ctx.endowment.sum())
            if isinstance(ctx.endowment, Tensor)
            else ctx.endowment * self.num_agents
        )
        needed = self.params.threshold * group
        missed = (total < needed - 1e-9).float()[:, None]  # [B, 1]
        # Undo the good's share everyone received; refund own contribution if guaranteed.
        undo = -(ctx.multiplier / self.num_agents) * total[:, None]
        refund = c if self.params.refund else torch.zeros_like(c)
        transfer = missed * (undo + refund)
        zero = torch.zeros_like(total)
        return Flow(transfer, zero, transfer.sum(-1))

    def transfer_bound(self, bounds: MoneyBounds) -> float:
        return bounds.multiplier * bounds.endowment + bounds.endowment  # undo the good, refund

    def describe(self) -> str:
        p = self.params
        back = "with" if p.refund else "without"
        return (
            f"Provision point at {p.threshold:.0%} of the group's endowment, {back} a "
            "money-back guarantee."
        )
