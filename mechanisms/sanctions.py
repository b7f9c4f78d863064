"""Sanctions: peer punishment and a central sanctioning institution.

Peer punishment follows Fehr & Gaechter (2000, 2002): after contributions are seen, each agent
may assign punishment points to each other member; a point costs the punisher ``cost`` and
the target ``impact`` (1:3 by default). The money is destroyed, not redistributed.

The institution fines shortfalls below a contribution threshold (the "pool punishment" of
Sigmund et al. 2010). A funded institution charges every agent a fee each round; fines go to
the institution's pool, where a later redistribution mechanism can rebate them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mechanisms.base import Flow, Mechanism, MoneyBounds, RoundContext
from mechanisms.params import param


@dataclass
class PeerPunishmentParams:
    cost: float = param(1.0, help="Cost to the punisher of one punishment point", ge=0)
    impact: float = param(3.0, help="Loss to the target per punishment point", ge=0)
    max_points: int = param(
        10, help="Most points one agent may assign to one other per round", ge=1, le=50
    )


class PeerPunishment(Mechanism):
    kind = "peer_punishment"
    Params = PeerPunishmentParams
    summary = "Peer punishment: after contributions are seen, agents pay to reduce others' payoffs."
    worlds = ("public_goods",)
    needs_sanction_stage = True

    def action_heads(self) -> tuple[int, ...]:
        # One head per other agent, in egocentric order (next agent first), choosing 0..max points.
        return (self.params.max_points + 1,) * (self.num_agents - 1)

    def apply(self, ctx: RoundContext) -> Flow:
        if ctx.punishment is None:
            return self._zeros()
        points = ctx.punishment.float()  # [B, N, N] i -> j
        cost = points.sum(-1) * self.params.cost  # [B, N] paid by each punisher
        loss = points.sum(-2) * self.params.impact  # [B, N] suffered by each target
        transfer = -(cost + loss)
        zero = torch.zeros(transfer.shape[0], device=transfer.device)
        return Flow(transfer, zero, transfer.sum(-1))

    def transfer_bound(self, bounds: MoneyBounds) -> float:
        p = self.params  # every other agent gives and receives the most points
        return (self.num_agents - 1) * p.max_points * (p.cost + p.impact)

    def describe(self) -> str:
        p = self.params
        return (
            f"Peer punishment: each point costs the punisher {p.cost:g} and the target "
            f"{p.impact:g} (up to {p.max_points} points per target per round)."
        )


@dataclass
class InstitutionParams:
    threshold: float = param(
        1.0,
        help="Contribution, as a fraction of the endowment, below which agents are fined",
        ge=0,
        le=1,
    )
    fine: float = param(1.0, help="Fine per unit of shortfall below the threshold", ge=0)
    fee: float = param(
        0.0, help="Fee each agent pays per round to fund the institution (0: unfunded)", ge=0
    )


class SanctionInstitution(Mechanism):
    kind = "sanction_institution"
    Params = InstitutionParams
    summary = "Central institution: fines contributions below a threshold."
    worlds = ("public_goods", "matrix_game")

    def apply(self, ctx: RoundContext) -> Flow:
        if ctx.contributions is None:
            raise ValueError("sanction_institution needs a world with contributions")
        p = self.params
        shortfall = (p.threshold * ctx.endowment - ctx.contributions).clamp(min=0)
        charge = p.fine * shortfall + p.fee  # [B, N]
        # Fines go to the pool; fees pay for the institution and leave the economy.
        fees = torch.full_like(ctx.contributions, p.fee).sum(-1)
        return Flow(-charge, (p.fine * shortfall).sum(-1), -fees)

    def transfer_bound(self, bounds: MoneyBounds) -> float:
        p = self.params
        return p.fine * p.threshold * bounds.endowment + p.fee

    def describe(self) -> str:
        p = self.params
        funded = f"funded by a fee of {p.fee:g} per agent per round" if p.fee else "unfunded"
        return (
            f"Sanctioning institution ({funded}): contributions below {p.threshold:.0%} of the "
            f"endowment are fined {p.fine:g} per unit of shortfall."
        )
