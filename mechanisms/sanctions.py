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
from torch import Tensor

from mechanisms.base import Flow, Mechanism, MoneyBounds, RoundContext
from mechanisms.params import param


@dataclass
class PeerPunishmentParams:
    # Per point up to 1e6: 50 points from each of 63 others over 10,000 rounds is 3e13,
    # far inside float32 and its square.
    cost: float = param(
        1.0, help="Cost to the punisher of one punishment point", ge=0, le=1e6, overflow_limit=True
    )
    impact: float = param(
        3.0, help="Loss to the target per punishment point", ge=0, le=1e6, overflow_limit=True
    )
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
    # Up to 1e6 per unit of shortfall (itself at most the endowment, 1e6) or per round: over
    # 10,000 rounds 1e16, inside float32 and its square.
    fine: float = param(
        1.0,
        help="Fine per unit of shortfall below the threshold",
        ge=0,
        le=1e6,
        overflow_limit=True,
    )
    fee: float = param(
        0.0,
        help="Fee each agent pays per round to fund the institution (0: unfunded)",
        ge=0,
        le=1e6,
        overflow_limit=True,
    )
    observed: bool = param(
        False,
        help="Agents see the threshold, fine and fee in force (needed when a planner changes "
        "them: agents that cannot see the rules cannot answer them)",
    )


class SanctionInstitution(Mechanism):
    kind = "sanction_institution"
    Params = InstitutionParams
    summary = "Central institution: fines contributions below a threshold."
    worlds = ("public_goods", "matrix_game")
    controllable = ("threshold", "fine", "fee")

    def __init__(self, params: InstitutionParams, num_agents: int, batch_size: int, device):
        super().__init__(params, num_agents, batch_size, device)
        # [B] each per world, so a planner or a sweep can run B institutions in one batch
        self.values = {
            name: self.per_world(getattr(params, name))[:, 0] for name in self.controllable
        }

    def control(self, name: str) -> Tensor:
        return self.values[name][:, None]  # [B, 1]

    def set_control(self, name: str, values: Tensor) -> None:
        self.values[name] = self.per_world(values)[:, 0]

    def replicate(self, source: Tensor) -> None:
        self.values = {name: value[source].clone() for name, value in self.values.items()}

    def apply(self, ctx: RoundContext) -> Flow:
        if ctx.contributions is None:
            raise ValueError("sanction_institution needs a world with contributions")
        threshold, fine, fee = (self.values[k][:, None] for k in self.controllable)  # [B, 1]
        shortfall = (threshold * ctx.endowment - ctx.contributions).clamp(min=0)  # [B, N]
        fines = fine * shortfall  # [B, N]
        # Fines go to the pool; fees pay for the institution and leave the economy.
        fees = fee.expand_as(ctx.contributions)  # [B, N]
        return Flow(-(fines + fees), fines.sum(-1), -fees.sum(-1))

    def transfer_bound(self, bounds: MoneyBounds) -> float:
        threshold, fine, fee = (float(self.values[k].max()) for k in self.controllable)
        return fine * threshold * bounds.endowment + fee

    @property
    def obs_dim(self) -> int:
        return len(self.controllable) if self.params.observed else 0

    def observation(self) -> Tensor:
        """[B, N, obs_dim] where agents see the rules: the threshold (a share of the
        endowment), and the fine and fee as x / (1 + x), which keeps two parameters without
        an upper bound inside [0, 1) while preserving their order."""
        threshold, fine, fee = (self.values[k] for k in self.controllable)  # [B] each
        seen = torch.stack([threshold, fine / (1 + fine), fee / (1 + fee)], -1)  # [B, 3]
        return seen[:, None, : self.obs_dim].expand(-1, self.num_agents, -1)

    def read_observation(self, seen: Tensor) -> None:
        """The threshold as seen; the fine and fee back from x / (1 + x)."""
        if not self.obs_dim:
            return
        threshold, fine, fee = seen[:, 0], seen[:, 1], seen[:, 2]
        self.values = {
            "threshold": self.per_world(threshold)[:, 0],
            "fine": self.per_world(fine / (1 - fine).clamp(min=1e-12))[:, 0],
            "fee": self.per_world(fee / (1 - fee).clamp(min=1e-12))[:, 0],
        }

    def observation_bounds(self, bounds: MoneyBounds) -> tuple[list[float], list[float]]:
        return [0.0] * self.obs_dim, [1.0] * self.obs_dim

    def describe(self) -> str:
        threshold, fine, fee = (float(self.values[k][0]) for k in self.controllable)
        funded = f"funded by a fee of {fee:g} per agent per round" if fee else "unfunded"
        return (
            f"Sanctioning institution ({funded}): contributions below {threshold:.0%} of the "
            f"endowment are fined {fine:g} per unit of shortfall."
        )
