"""The AI Economist's skills: its fixed four ranked build skills and corner starts, and its
gather bonus drawn apart from the build skill.

Why computed rather than typed in: the reference derives the four payments from a fixed
Pareto sample (numpy's legacy generator at seed 1), so computing them the same way gives its
numbers to the last digit (11.33, 13.27, 16.47, 22.25 coin for four agents) and the right
ones for any other number of agents.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
from torch import Tensor

RANK_SAMPLES = 100_000  # Pareto draws the reference averages each rank over
RANK_SEED = 1  # numpy seed the reference fixes while it draws them
GATHER_ALPHA = 3.0  # Pareto shape of the reference's gather bonus


@cache
def fixed_four_skills(num_agents: int, max_skill: float, alpha: float) -> tuple[float, ...]:
    """Build skill multiplier of each skill rank, lowest first: the mean of the rank's order
    statistic of ``min(max_skill, (max_skill - 1) Lomax(alpha) + 1)`` over 100,000 draws."""
    rng = np.random.RandomState(RANK_SEED)
    lomax = rng.pareto(alpha, size=(RANK_SAMPLES, num_agents))  # numpy's pareto is Lomax
    clipped = np.minimum(max_skill, (max_skill - 1) * lomax + 1)
    return tuple(float(v) for v in np.sort(clipped, axis=1).mean(axis=0))


def fixed_four_starts(num_agents: int, height: int, width: int) -> list[tuple[int, int]]:
    """Start tile (row, column) of each skill rank, lowest first.

    Ranks fall into four groups by quartile: the lowest at the top-right corner, then
    bottom-left, top-left, bottom-right; within a group agents line up along the corner's
    row, four to a row, as the reference places them.
    """
    corners = [(0, width - 1, 1, -1), (height - 1, 0, -1, 1), (0, 0, 1, 1)]
    corners.append((height - 1, width - 1, -1, -1))  # (row, col, row step, col step)
    placed = [0, 0, 0, 0]
    starts = []
    for rank in range(num_agents):
        group = rank * 4 // num_agents
        row, col, dr, dc = corners[group]
        k = placed[group]
        starts.append((row + dr * (k // 4), col + dc * (k % 4)))
        placed[group] += 1
    return starts


def shuffled_ranks(gen: torch.Generator, batch: int, num_agents: int, device) -> Tensor:
    """[B, N] long: the skill rank of each seat, a fresh permutation per world (the reference
    hands the ranks to its agents in a random order at every reset)."""
    return torch.rand(batch, num_agents, generator=gen, device=device).argsort(-1)


def pareto_gather_bonus(gen: torch.Generator, batch: int, num_agents: int, device) -> Tensor:
    """[B, N] gather bonus probabilities ``min(2, Lomax(3)) / 2``, independent of build skill."""
    u = torch.rand(batch, num_agents, generator=gen, device=device).clamp(min=1e-9)
    lomax = u.pow(-1.0 / GATHER_ALPHA) - 1  # inverse CDF of Lomax(3)
    return lomax.clamp(max=2.0) / 2
