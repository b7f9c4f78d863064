"""Who plays which seat: a population maps agent indices to policies."""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.agents.policy import Policy


class Population:
    """Groups of agents, each group driven by one policy, acting together in one call.

    The loop is over *groups* (a handful of policies), never over agents or worlds.
    """

    def __init__(self, groups: list[tuple[Policy, list[int]]], num_agents: int, num_heads: int):
        seats = sorted(i for _, idx in groups for i in idx)
        if seats != list(range(num_agents)):
            raise ValueError(
                f"population must fill seats 0..{num_agents - 1} exactly once, got {seats}"
            )
        self.groups = [(p, torch.tensor(idx)) for p, idx in groups]
        self.num_agents = num_agents
        self.num_heads = num_heads
        self.agent_policy = [""] * num_agents
        for policy, idx in groups:
            for i in idx:
                self.agent_policy[i] = policy.name

    def act(self, obs: Tensor, gen: torch.Generator, mask: Tensor | None = None) -> Tensor:
        """obs [B, N, O] (and the world's action mask [B, N, A]) -> actions [B, N, H] long."""
        b = obs.shape[0]
        actions = torch.zeros(
            b, self.num_agents, self.num_heads, dtype=torch.long, device=obs.device
        )
        for policy, idx in self.groups:
            idx = idx.to(obs.device)
            seat_mask = None if mask is None else mask[:, idx]
            actions[:, idx] = policy.act(obs[:, idx], gen, seat_mask)
        return actions
