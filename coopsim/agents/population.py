"""Who plays which seat: a population maps agent indices to policies."""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.agents.policy import Policy


def seat_index(idx: Tensor) -> slice | Tensor:
    """Seats ``idx`` as a slice where they run contiguously, else the tensor itself.

    Indexing [B, N, ...] with a tensor copies it; with a slice it is a view. A group's seats
    are usually contiguous (often all of them), so a view spares a copy of every step's
    observations (twice a step in training).
    """
    seats = idx.tolist()
    if seats and seats == list(range(seats[0], seats[-1] + 1)):
        return slice(seats[0], seats[-1] + 1)
    return idx


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
        self.seats = [seat_index(idx) for _, idx in self.groups]  # slices where contiguous
        self.num_agents = num_agents
        self.num_heads = num_heads
        self.agent_policy = [""] * num_agents
        # (alpha, beta) by which these seats vote (Fehr-Schmidt), where a population file
        # gives it (coopsim.stress.members); None: they vote on their own payoff
        self.vote_aversion: tuple[float, float] | None = None
        for policy, idx in groups:
            for i in idx:
                self.agent_policy[i] = policy.name

    def act(self, obs: Tensor, gen: torch.Generator, mask: Tensor | None = None) -> Tensor:
        """obs [B, N, O] (and the world's action mask [B, N, A]) -> actions [B, N, H] long."""
        b = obs.shape[0]
        actions = torch.zeros(
            b, self.num_agents, self.num_heads, dtype=torch.long, device=obs.device
        )
        for (policy, _), seats in zip(self.groups, self.seats):
            if isinstance(seats, Tensor):
                seats = seats.to(obs.device)
            seat_mask = None if mask is None else mask[:, seats]
            actions[:, seats] = policy.act(obs[:, seats], gen, seat_mask)
        return actions
