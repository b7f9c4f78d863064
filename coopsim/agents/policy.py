"""The policy interface, and the base of the scripted strategies.

A :class:`Policy` maps the observations of a group of agents to their actions for all B worlds
at once; the population, the trainer and the evaluator call nothing else on a policy but what
is declared here (a learner adds PPO's ``step`` and ``update`` and says so with ``learns``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

from coopsim.envs.base import WorldSpec


class Policy(ABC):
    """Maps observations of a group of agents to their actions."""

    name: str = ""
    learns: bool = False

    @abstractmethod
    def act(self, obs: Tensor, gen: torch.Generator, mask: Tensor | None = None) -> Tensor:
        """obs [B, n, obs_dim] -> actions [B, n, H] long.

        ``mask`` ([B, n, sum(nvec)] bool, from :meth:`World.action_mask`) marks the choices that
        can take effect; learners sample within it, scripted rules may ignore it.
        """


class ScriptedPolicy(Policy):
    """A fixed strategy: decides a contribution share in [0, 1] and, if asked, punishments."""

    Params: type = type(None)
    summary: str = ""
    #: World kinds it plays, where it plays only some (checked when a scenario loads); None:
    #: any world whose observation has the fields it reads.
    worlds: tuple[str, ...] | None = None

    def __init__(self, spec: WorldSpec, params=None):
        self.spec = spec
        self.params = params
        self.levels = spec.action_nvec[0]

    @classmethod
    def refusal(cls, world: str, mechanisms: list[str]) -> str | None:
        """Why it cannot play a ``world`` kind under ``mechanisms`` (kinds), or None; checked
        when a scenario loads, so a run never fails when it is built instead."""
        if cls.worlds is not None and world not in cls.worlds:
            return f"{cls.name!r} does not play a {world!r} world (only {', '.join(cls.worlds)})"
        return None

    def bind(self, world, seats: list[int]) -> None:
        """Called once by whoever seats it in ``world``, holding ``seats``. Most strategies
        read only their observations and need nothing; one that answers the rules in force
        (:mod:`coopsim.agents.responders`) learns the world's payoff rule here."""

    def field(self, obs: Tensor, name: str) -> Tensor:
        sl = self.spec.obs_fields[name]
        return obs[..., sl].squeeze(-1) if sl.stop - sl.start == 1 else obs[..., sl]

    @abstractmethod
    def share(self, obs: Tensor, gen: torch.Generator) -> Tensor:
        """[B, n] share of the endowment to contribute this round."""

    def punish(self, obs: Tensor) -> Tensor | None:
        """[B, n, N-1] points for each other agent (egocentric), or None for none."""
        return None

    def act(self, obs: Tensor, gen: torch.Generator, mask: Tensor | None = None) -> Tensor:
        b, n, _ = obs.shape
        actions = torch.zeros(b, n, len(self.spec.action_nvec), dtype=torch.long, device=obs.device)
        share = self.share(obs, gen).clamp(0, 1)
        actions[..., 0] = torch.round(share * (self.levels - 1)).long()
        if len(self.spec.action_nvec) > 1:
            points = self.punish(obs)
            if points is not None:
                cap = torch.tensor(self.spec.action_nvec[1:], device=obs.device) - 1
                actions[..., 1:] = torch.minimum(points.long(), cap)
        return actions
