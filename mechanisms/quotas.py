"""Rules on a common-pool resource: an extraction quota and a Pigouvian extraction tax.

**Quota.** Each agent may take ``cap`` units per ``period`` steps (the count restarts every
period). Enforced (``enforcement = "block"``), a harvest beyond the cap does nothing: the apple
stays where it is. Fined (``"fine"``), the harvest goes ahead and the institution fines every
unit beyond the cap; fines go to the pool, so a ``lump_sum`` after it rebates them: the
sanctioning institution of the public-goods game, fining over-extraction instead of
under-contribution.

**Extraction tax.** A charge per unit taken, ``rate + surcharge x (1 - stock share)``: the
Pigouvian tax on the harm a harvest does to the resource's regrowth, optionally rising as the
stock falls (``stock share`` is the share of resource tiles that are full at the start of the
step). Revenue goes to the pool; put ``lump_sum`` after it to rebate it equally, so the tax
changes what a harvest is worth at the margin without taking the group's income away.

Both hold their parameters per world ([B] tensors), so a planner or a sweep can run B rules
in one batch: the quota's control is its cap per step of the period (``cap / period``, 0-1,
an agent can take at most one unit a step), the tax's are its rate and surcharge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from mechanisms.base import ControlSpec, Flow, MoneyBounds, RoundContext
from mechanisms.extraction import ExtractionRule
from mechanisms.params import param


@dataclass
class QuotaParams:
    # Money and units up to 1e6: a fine per unit x units per step x 100,000 steps stays
    # far inside float32.
    cap: float = param(
        10.0, help="Units each agent may take per period", ge=0, le=1e6, overflow_limit=True
    )
    period: int = param(
        100, help="Steps per quota period (each agent's count restarts)", ge=1, le=100_000
    )
    enforcement: str = param(
        "block",
        help="'block': a harvest beyond the cap does nothing; 'fine': it goes ahead and is "
        "fined, the fines paid into the pool",
        choices=("block", "fine"),
    )
    fine: float = param(
        2.0,
        help="With enforcement = 'fine': fine per unit taken beyond the cap",
        ge=0,
        le=1e6,
        overflow_limit=True,
    )


class Quota(ExtractionRule):
    kind = "quota"
    Params = QuotaParams
    summary = "Extraction quota: a cap on units each agent may take per period."

    def __init__(self, params: QuotaParams, num_agents: int, batch_size: int, device):
        super().__init__(params, num_agents, batch_size, device)
        # [B] the cap per step of the period: the planner's control, exactly as it set it
        self.cap_per_step = torch.full(
            (batch_size,), params.cap / params.period, device=self.device
        )
        self.fine = torch.full((batch_size,), float(params.fine), device=self.device)  # [B]
        self.taken = torch.zeros(batch_size, num_agents, device=self.device)  # [B, N]

    def reset(self) -> None:
        self.taken = torch.zeros_like(self.taken)

    @property
    def cap(self) -> Tensor:
        """[B] units each agent may take per period."""
        return self.cap_per_step * self.params.period

    @classmethod
    def period_of(cls, params: Any) -> int | None:
        return int(params.period)

    def allowance(self) -> Tensor | None:
        if self.params.enforcement != "block":
            return None
        return self.cap[:, None] - self.taken  # [B, N]

    def apply(self, ctx: RoundContext) -> Flow:
        before = self.taken
        self.taken = before + ctx.gross
        cap = self.cap[:, None]
        over = (self.taken - cap).clamp(min=0) - (before - cap).clamp(min=0)  # [B, N] this step
        fines = self.fine[:, None] * over if self.params.enforcement == "fine" else over * 0
        if (ctx.round + 1) % self.params.period == 0:
            self.taken = torch.zeros_like(self.taken)
        zero = torch.zeros(self.batch_size, device=self.device)
        return Flow(-fines, fines.sum(-1), zero)

    @property
    def obs_dim(self) -> int:
        return 1

    def observation(self) -> Tensor:
        """[B, N, 1] share of the cap still unused this period (0 under a cap of 0)."""
        cap = self.cap[:, None]
        left = torch.where(cap > 0, (cap - self.taken) / cap.clamp(min=1e-9), 0.0)
        return left.clamp(0, 1)[..., None]

    def transfer_bound(self, bounds: MoneyBounds) -> float:
        """At most the fine on every unit one agent takes in a step."""
        if self.params.enforcement != "fine":
            return 0.0
        return float(self.fine.max()) * bounds.gross

    def observation_bounds(self, bounds: MoneyBounds) -> tuple[list[float], list[float]]:
        return [0.0], [1.0]

    @classmethod
    def control_specs(cls, params: Any) -> dict[str, ControlSpec]:
        """The cap per step of the period (cap / period): an agent takes at most one unit a
        step, so 0-1 whatever the period."""
        return {"cap_per_step": ControlSpec(1, 0.0, 1.0)}

    @classmethod
    def control_fields(cls, params: Any) -> tuple[str, ...]:
        return ("cap",)  # the control is cap / period: one field, rescaled

    def control(self, name: str) -> Tensor:
        return self.cap_per_step[:, None]  # [B, 1]

    def set_control(self, name: str, values: Tensor) -> None:
        self.cap_per_step = self.per_world(values)[:, 0]

    def replicate(self, source: Tensor) -> None:
        self.cap_per_step = self.cap_per_step[source].clone()
        self.fine = self.fine[source].clone()
        self.taken = self.taken[source].clone()

    def describe(self) -> str:
        p = self.params
        how = (
            "harvests beyond it do nothing"
            if p.enforcement == "block"
            else f"each unit beyond it is fined {p.fine:g}"
        )
        return f"Quota of {p.cap:g} units per agent every {p.period} steps; {how}."


@dataclass
class ExtractionTaxParams:
    # Charges up to 1e6 per unit: x units per step x 100,000 steps stays inside float32.
    rate: float = param(
        0.5,
        help="Charge per unit taken while the resource is full",
        ge=0,
        le=1e6,
        overflow_limit=True,
    )
    surcharge: float = param(
        0.0,
        help="Extra charge per unit when the resource is exhausted; it rises linearly as the "
        "stock falls (0: a flat charge)",
        ge=0,
        le=1e6,  # as rate
        overflow_limit=True,
    )


class ExtractionTax(ExtractionRule):
    kind = "extraction_tax"
    Params = ExtractionTaxParams
    summary = "Pigouvian extraction tax: a charge per unit taken, rising as the stock falls."
    controllable = ("rate", "surcharge")

    def __init__(self, params: ExtractionTaxParams, num_agents: int, batch_size: int, device):
        super().__init__(params, num_agents, batch_size, device)
        self.rate = torch.full((batch_size,), float(params.rate), device=self.device)  # [B]
        self.surcharge = torch.full((batch_size,), float(params.surcharge), device=self.device)
        self.stock_share = torch.ones(batch_size, device=self.device)  # [B] full at the start

    def reset(self) -> None:
        self.stock_share = torch.ones_like(self.stock_share)

    def observe_stock(self, share: Tensor) -> None:
        self.stock_share = share.to(self.device).float()

    def charge(self) -> Tensor:
        """[B] the charge per unit in force this step."""
        return self.rate + self.surcharge * (1 - self.stock_share).clamp(0, 1)

    def apply(self, ctx: RoundContext) -> Flow:
        tax = self.charge()[:, None] * ctx.gross  # [B, N]
        return Flow(-tax, tax.sum(-1), torch.zeros(self.batch_size, device=self.device))

    @property
    def obs_dim(self) -> int:
        return 1

    def observation(self) -> Tensor:
        """[B, N, 1] the charge per unit in force."""
        return self.charge()[:, None, None].expand(-1, self.num_agents, 1)

    def _top_charge(self) -> float:
        return float((self.rate + self.surcharge).max())

    def transfer_bound(self, bounds: MoneyBounds) -> float:
        """At most the highest charge on every unit one agent takes in a step."""
        return self._top_charge() * bounds.gross

    def observation_bounds(self, bounds: MoneyBounds) -> tuple[list[float], list[float]]:
        return [0.0], [self._top_charge()]

    def control(self, name: str) -> Tensor:
        return (self.rate if name == "rate" else self.surcharge)[:, None]  # [B, 1]

    def set_control(self, name: str, values: Tensor) -> None:
        if name == "rate":
            self.rate = self.per_world(values)[:, 0]
        else:
            self.surcharge = self.per_world(values)[:, 0]

    def replicate(self, source: Tensor) -> None:
        self.rate, self.surcharge = self.rate[source].clone(), self.surcharge[source].clone()
        self.stock_share = self.stock_share[source].clone()

    def describe(self) -> str:
        p = self.params
        rising = (
            f", rising to {p.rate + p.surcharge:g} as the stock runs out" if p.surcharge else ""
        )
        return f"Extraction tax of {p.rate:g} per unit taken{rising}."
