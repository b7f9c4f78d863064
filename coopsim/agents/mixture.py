"""A seat table: several populations sharing one batch, each world's seats drawn from them.

A stress test plays one rule against many populations, and a planner trained for unseen agents
meets a mixture of them. Both are one batch of worlds here: every member (a run's trained
seats, a scripted strategy) acts only on the worlds where it holds a seat, and a [B, N] table
says which member holds each seat of each world, so populations and mixtures cost one rollout.
"""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.agents.policy import Policy
from coopsim.agents.population import Population


class SeatTable(Policy):
    """``members[table[b, i]]`` plays seat i of world b; each member is a full population
    (it acts for all N seats, so a learner keeps the seat it was trained in)."""

    def __init__(self, members: list[Population], table: Tensor, name: str = "mixture"):
        if table.dim() != 2:
            raise ValueError(f"a seat table is [B, N], got shape {tuple(table.shape)}")
        if table.numel() and not 0 <= int(table.min()) <= int(table.max()) < len(members):
            raise ValueError(f"seat table names members outside 0..{len(members) - 1}")
        self.members = members
        self.table = table  # [B, N] long: the member holding each seat
        self.name = name

    def act(self, obs: Tensor, gen: torch.Generator, mask: Tensor | None = None) -> Tensor:
        """obs [B, N, O] -> actions [B, N, H]; each member acts once, on its worlds only."""
        b, n, _ = obs.shape
        if self.table.shape != (b, n):
            raise ValueError(f"seat table is {tuple(self.table.shape)}, worlds are {(b, n)}")
        table = self.table.to(obs.device)
        actions: Tensor | None = None
        for m, member in enumerate(self.members):
            holds = table == m  # [B, N]
            rows = holds.any(1).nonzero().squeeze(1)  # [W] worlds where it holds a seat
            if rows.numel() == 0:
                continue
            got = member.act(obs[rows], gen, None if mask is None else mask[rows])  # [W, N, H]
            if actions is None:
                actions = torch.zeros(b, n, got.shape[-1], dtype=torch.long, device=obs.device)
            actions[rows] = torch.where(holds[rows, :, None], got, actions[rows])
        assert actions is not None  # the table is never empty: B, N >= 1
        return actions

    def aversion(self) -> Tensor | None:
        """[B, N, 2] the (alpha, beta) each seat votes by: its member's ``vote_aversion``
        (0, 0 where a member has none), gathered through the table in one step; None where
        no member votes by inequity aversion, so a plain vote stays exactly as it was."""
        prefs = [m.vote_aversion for m in self.members]
        if all(p is None for p in prefs):
            return None
        table = torch.tensor([p or (0.0, 0.0) for p in prefs], dtype=torch.float32)  # [M, 2]
        return table[self.table]


def voter_aversion(population: Policy, batch: int) -> Tensor | None:
    """[batch, N, 2] the Fehr-Schmidt (alpha, beta) each seat of ``population`` votes by, or
    None where every seat votes on its own payoff (the votes objective's ``aversion``).

    Why here: who votes how is a property of who sits in the seat, and only the population
    knows that; the vote (:func:`coopsim.measures.votes`) reads it per world and seat. A
    population's groups are a handful of policies, each a seat table (its own [B, N, 2]) or a
    population with one ``vote_aversion`` for all its seats."""
    own = getattr(population, "vote_aversion", None)
    if isinstance(population, SeatTable):
        found = population.aversion()
        if found is not None and found.shape[0] != batch:
            raise ValueError(f"seat table is for {found.shape[0]} worlds, not {batch}")
        return found
    if not isinstance(population, Population):
        return None
    n = population.num_agents
    out: Tensor | None = None
    if own is not None:
        out = torch.tensor(own, dtype=torch.float32).expand(batch, n, 2).clone()
    for (policy, idx), seats in zip(population.groups, population.seats):
        inner = voter_aversion(policy, batch)
        if inner is None:
            continue
        if out is None:
            out = torch.zeros(batch, n, 2)
        out[:, seats] = inner if inner.shape[1] == len(idx) else inner[:, idx]
    return out


def draw_table(shares: list[float], worlds: int, seats: int, gen: torch.Generator) -> Tensor:
    """[worlds, seats] member indices drawn independently per seat with probabilities ``shares``
    (a mixture in proportions: each world draws its own population)."""
    p = torch.tensor(shares, dtype=torch.float64)
    if (p <= 0).any() or abs(float(p.sum()) - 1.0) > 1e-6:
        raise ValueError(f"shares must be positive and sum to 1, got {shares}")
    flat = torch.multinomial(p.expand(worlds * seats, -1), 1, True, generator=gen)
    return flat.view(worlds, seats)


def as_population(policy: SeatTable, num_agents: int, num_heads: int) -> Population:
    """The seat table as a :class:`Population` of one group holding every seat."""
    return Population([(policy, list(range(num_agents)))], num_agents, num_heads)
