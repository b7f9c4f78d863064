"""What the outside-library adapters (PettingZoo, TorchRL) share: who is exposed and what a step
reports.

A scenario's population says which seats learn and which run a scripted rule (tit-for-tat, free
riders). The adapters expose only the learning seats as agents by default and play the scripted
seats themselves, inside the environment, so an outside learner meets the opponents the scenario
describes; ``seats="all"`` exposes every seat instead (self-play, or a caller's own opponents).
"""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim import builder
from coopsim import scenario as sc
from coopsim.agents.scripted import SCRIPTED, Policy
from coopsim.envs.base import World

SEAT_CHOICES = ("learning", "all")


class Seats:
    """The learning seats a caller drives and the scripted seats the environment drives."""

    def __init__(self, scenario: sc.Scenario, world: World, seats: str = "learning"):
        if seats not in SEAT_CHOICES:
            raise ValueError(f"seats: got {seats!r}, allowed: {', '.join(SEAT_CHOICES)}")
        n, start = world.spec.num_agents, 0
        learning: list[int] = []
        scripted: list[tuple[Policy, Tensor]] = []
        for group in scenario.population:
            idx = list(range(start, start + group.count))
            start += group.count
            if seats == "all" or group.policy in sc.LEARNERS:
                learning += idx
                continue
            cls = SCRIPTED[group.policy]
            params = group.params if cls.Params is not type(None) else None
            policy = cls(world.spec, params)
            policy.bind(world, idx)
            scripted.append((policy, torch.tensor(idx, device=world.device)))
        if not scenario.population:  # a scenario without a population: every seat is open
            learning = list(range(n))
        if not learning:
            raise ValueError(
                f"scenario {scenario.name!r} has no learning seats (its population is all "
                "scripted): pass seats='all' to drive every seat"
            )
        self.num_agents = n
        self.learning = torch.tensor(learning, device=world.device)  # [M] seat of each agent
        self.scripted = scripted
        self.num_heads = len(world.spec.action_nvec)

    @property
    def names(self) -> list[str]:
        """Agent names, by seat: ``agent_{seat}``."""
        return [f"agent_{i}" for i in self.learning.tolist()]

    def joint(
        self,
        actions: Tensor,
        obs: Tensor,
        gen: torch.Generator,
        mask: Tensor | None,
    ) -> Tensor:
        """Learners' ``actions`` [B, M, H] and the scripted seats' choices -> [B, N, H] long.

        ``obs`` [B, N, obs_dim] and ``mask`` [B, N, sum(nvec)] are the world's latest.
        """
        b = actions.shape[0]
        joint = torch.zeros(b, self.num_agents, self.num_heads, dtype=torch.long)
        joint = joint.to(actions.device)
        joint[:, self.learning] = actions.long()
        for policy, idx in self.scripted:  # a handful of policies, never a loop over seats
            seat_mask = None if mask is None else mask[:, idx]
            joint[:, idx] = policy.act(obs[:, idx], gen, seat_mask)
        return joint


def info_keys(scenario: sc.Scenario) -> list[str]:
    """The variables a round reports (``Step.info``), found by playing one round of a copy.

    Every step of the adapters reports all of them (0 on steps that end no round, and at
    reset), so info has the same keys at reset and at every step, as wrappers that build their
    specs from the first info (TorchRL's) need.
    """
    probe = builder.make_world(scenario, batch_size=1)
    probe.reset(seed=0)
    heads = len(probe.spec.action_nvec)
    while True:
        step = probe.step(torch.zeros(1, probe.spec.num_agents, heads, dtype=torch.long))
        if step.round_end or bool(step.done[0]):
            return list(step.info)
