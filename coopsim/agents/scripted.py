"""Scripted strategies from the experimental and evolutionary game-theory literature.

Each reads named fields of the observation (``spec.obs_fields``) rather than world internals,
so the same strategy plays the public-goods game (contributions as a share of the endowment)
and matrix games (cooperate = contribute everything). All act on [B, n, obs] tensors at once.

:data:`SCRIPTED` is the one registry of scripted policies, the economy's worker
(:mod:`coopsim.agents.economy_scripted`) included.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from coopsim.agents.commons_scripted import GreedyHarvester, RestrainedHarvester
from coopsim.agents.economy_scripted import GatherBuild
from coopsim.agents.people_schedule import PeopleSchedule
from coopsim.agents.policy import Policy, ScriptedPolicy
from coopsim.agents.responders import (
    BestResponder,
    CrowdingResponder,
    HurdleResponder,
    LinearResponder,
    QuantalResponder,
)
from coopsim.schema import param


class AlwaysContribute(ScriptedPolicy):
    name = "always_contribute"
    summary = "Contributes the whole endowment (cooperates) every round."

    def share(self, obs, gen):
        return torch.ones(obs.shape[:2], device=obs.device)


class FreeRider(ScriptedPolicy):
    name = "free_rider"
    summary = "Contributes nothing (defects) every round."

    def share(self, obs, gen):
        return torch.zeros(obs.shape[:2], device=obs.device)


class RandomPolicy(ScriptedPolicy):
    name = "random"
    summary = "Picks a contribution level uniformly at random."

    def act(self, obs, gen, mask=None):
        b, n, _ = obs.shape
        high = torch.tensor(self.spec.action_nvec, device=obs.device)
        u = torch.rand(b, n, len(self.spec.action_nvec), generator=gen, device=obs.device)
        return (u * high).long().clamp(max=high - 1)

    def share(self, obs, gen):  # pragma: no cover - act is overridden
        raise NotImplementedError


@dataclass
class TitForTatParams:
    threshold: float = param(
        0.5, help="Cooperate when the others' mean last contribution reaches this share", ge=0, le=1
    )


class TitForTat(ScriptedPolicy):
    name = "tit_for_tat"
    Params = TitForTatParams
    summary = "Cooperates first, then cooperates only if the others did last round."

    def share(self, obs, gen):
        others = self.field(obs, "others_last_mean_contribution")
        first = self.field(obs, "first_round") > 0
        return torch.where(first | (others >= self.params.threshold - 1e-6), 1.0, 0.0)


@dataclass
class ConditionalCooperatorParams:
    initial: float = param(
        1.0, help="Share of the endowment contributed in the first round", ge=0, le=1
    )


class ConditionalCooperator(ScriptedPolicy):
    name = "conditional_cooperator"
    Params = ConditionalCooperatorParams
    summary = "Matches the group's mean contribution of the last round (Fischbacher et al. 2001)."

    def share(self, obs, gen):
        first = self.field(obs, "first_round") > 0
        others = self.field(obs, "others_last_mean_contribution")
        return torch.where(first, torch.full_like(others, self.params.initial), others)


@dataclass
class HumpShapedParams:
    peak: float = param(
        0.5, help="Share of the endowment contributed when the others give `turn`", ge=0, le=1
    )
    turn: float = param(
        0.5,
        help="Others' mean contribution share at which this agent gives most",
        gt=0,
        lt=1,
    )


class HumpShaped(ScriptedPolicy):
    """Fischbacher, Gaechter and Fehr (2001)'s "hump-shaped" (triangle) contributors: in
    their strategy method about 14% of people raised their contribution with the others' up
    to about half the endowment and lowered it beyond. Modelled as a tent: ``peak`` x the
    others' share / ``turn`` up to ``turn``, falling linearly to 0 when the others give all."""

    name = "hump_shaped"
    Params = HumpShapedParams
    summary = "Matches the group's contribution up to a point, then gives less the more they give."

    def share(self, obs, gen):
        first = self.field(obs, "first_round") > 0
        others = self.field(obs, "others_last_mean_contribution")
        p = self.params
        rising = others / p.turn
        falling = (1.0 - others) / (1.0 - p.turn)
        tent = p.peak * torch.minimum(rising, falling).clamp(0, 1)
        return torch.where(first, torch.full_like(others, p.peak), tent)


@dataclass
class PunisherParams:
    contribution: float = param(
        1.0, help="Share of the endowment this agent contributes", ge=0, le=1
    )
    threshold: float = param(
        0.5, help="Punish others whose contribution share is below this", ge=0, le=1
    )
    points: int = param(
        3, help="Punishment points given to each free rider", ge=0, le=50
    )  # peer punishment's max_points is at most 50


class Punisher(ScriptedPolicy):
    name = "punisher"
    Params = PunisherParams
    summary = "Contributes and punishes those who contribute less than a threshold."

    def share(self, obs, gen):
        return torch.full(obs.shape[:2], self.params.contribution, device=obs.device)

    def punish(self, obs):
        current = self.field(obs, "current_contributions")[..., 1:]  # [B, n, N-1] others
        return (current < self.params.threshold - 1e-6).long() * self.params.points


# Every scripted policy a scenario may name, in the order listings show them. One explicit
# table: a new strategy is added here, wherever its class lives.
SCRIPTED: dict[str, type[ScriptedPolicy]] = {
    cls.name: cls
    for cls in (
        AlwaysContribute,
        FreeRider,
        RandomPolicy,
        TitForTat,
        ConditionalCooperator,
        HumpShaped,
        Punisher,
        BestResponder,
        HurdleResponder,
        QuantalResponder,
        CrowdingResponder,
        LinearResponder,
        GatherBuild,
        GreedyHarvester,
        RestrainedHarvester,
        PeopleSchedule,
    )
}

__all__ = ["SCRIPTED", "Policy", "ScriptedPolicy"]
