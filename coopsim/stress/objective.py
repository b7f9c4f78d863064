"""What a planner trained against several populations maximises across them.

A planner trained against a mixture (``[planner] populations``) is paid, in each training
world, the scenario's objective of what that world's agents did. Averaged over the worlds
(``robust_objective = 'mean'``), that pays it for rules that do well on the *typical* world of
the mix: a rule that satisfies most populations with no margin for the rest is as good as one
that serves them all. A designer facing agents it has not met wants the other end, the
population it serves worst. This is distributionally robust optimisation over the training
populations: ``'worst'`` maximises the minimum over them (the minimax objective of robust
multi-agent RL), ``'cvar'`` the conditional value at risk, the mean of the worst ``alpha``
share of them (the risk-averse objective of Tamar, Glassner and Mannor 2015, "Optimizing the
CVaR via sampling"; Rockafellar and Uryasev 2000), which runs from the mean (alpha = 1) to
the minimum (alpha -> 0).

Each period, with ``J_k`` the mean objective of the worlds that played population ``k``
(only the populations present in the batch count), the aggregate is ``sum_k w_k J_k`` with
CVaR weights ``w`` on the populations sorted worst first: ``1 / (alpha m)`` each of the worst
``alpha m`` of the ``m`` present, the boundary one a fraction, the rest 0.

**Credit.** Every world's reward cannot simply become the aggregate: PPO would see the same
number in every world and learn only from how the aggregate moves between periods. Instead
each world's weight is ``B w_k / n_k`` (``n_k`` worlds of its population among ``B``): the
batch mean of the weighted objectives *is* the aggregate, so the policy gradient is the
aggregate's: the envelope (Danskin) gradient of a minimum is the gradient of its minimiser, and
CVaR's policy gradient weighs the tail's samples only (Tamar et al. 2015). A world's reward is
its weight times its own objective less its population's mean (:func:`robust_rewards`: the
baseline that keeps the tail's selection from rewarding what put a population in it). Worlds
of populations outside the tail are paid 0 that period; what the planner did there carries no
credit, as in the CVaR gradient. All of it is batched (scatter-adds over a population index),
with no loop over worlds.
"""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.config.planner import CVAR_ALPHA, PlannerConfig


def tail_alpha(config: PlannerConfig) -> float | None:
    """The CVaR share of a planner's robust objective: None for 'worst' (the minimum, whatever
    the number of populations present), the configured or default alpha for 'cvar'."""
    if config.robust_objective == "cvar":
        return config.cvar_alpha if config.cvar_alpha is not None else CVAR_ALPHA
    return None


def _share(kind: str, alpha: float | None) -> float | None:
    """The tail share :func:`tail_weights` takes for ``kind``: None (the minimum) for 'worst'."""
    if kind not in ("worst", "cvar"):
        raise ValueError(f"robust objective {kind!r}: allowed 'mean', 'worst', 'cvar'")
    if kind == "worst":
        return None
    alpha = CVAR_ALPHA if alpha is None else alpha
    if not 0 < alpha <= 1:
        raise ValueError(f"cvar_alpha: got {alpha!r}, must be in (0, 1]")
    return alpha


def population_means(
    objective: Tensor, population: Tensor, num_populations: int
) -> tuple[Tensor, Tensor]:
    """([P] mean objective of each population's worlds, [P] their count) for worlds' objective
    [W] and population index [W] in [0, P); a population with no world has count 0, mean 0."""
    counts = torch.zeros(num_populations, dtype=objective.dtype, device=objective.device)
    counts.scatter_add_(0, population, torch.ones_like(objective))
    sums = torch.zeros_like(counts).scatter_add_(0, population, objective)
    return sums / counts.clamp(min=1), counts


def tail_weights(means: Tensor, counts: Tensor, alpha: float | None) -> Tensor:
    """[P] CVaR weights (summing to 1) on the populations present (count > 0): the worst
    ``alpha`` share of them by mean, the boundary one in part; ``alpha`` None puts all on the
    worst (ties: the lowest index)."""
    present = counts > 0
    m = int(present.sum())
    if m == 0:
        raise ValueError("no population is present in the batch")
    share = 1.0 / m if alpha is None else alpha
    order = torch.argsort(torch.where(present, means, torch.inf), stable=True)
    before = torch.arange(means.numel(), dtype=means.dtype, device=means.device) / m
    sorted_w = (share - before).clamp(0.0, 1.0 / m) / share
    sorted_w[m:] = 0.0
    return torch.zeros_like(means).scatter_(0, order, sorted_w)


def aggregate(
    objective: Tensor,
    population: Tensor,
    num_populations: int,
    kind: str,
    alpha: float | None = None,
) -> Tensor:
    """The robust objective (a scalar) of worlds' objective [W] with population index [W]:
    ``kind`` 'mean' (over worlds), 'worst' (the minimum population mean) or 'cvar' (the mean
    of the worst ``alpha`` share of population means)."""
    if kind == "mean":
        return objective.mean()
    means, counts = population_means(objective, population, num_populations)
    return (tail_weights(means, counts, _share(kind, alpha)) * means).sum()


def robust_rewards(
    paid: Tensor,
    objective: Tensor,
    population: Tensor,
    num_populations: int,
    kind: str,
    alpha: float | None = None,
) -> Tensor:
    """[W] the planner's reward per world under a robust objective: ``paid`` (each world's
    reward, [W]) less its population's mean of it, times :func:`reward_weights` of the
    period's ``objective``; ``paid`` as is for 'mean'.

    Why centred: which population is worst depends on what the planner did in its worlds, so
    the tail's worlds are, more often than not, the ones where it chose badly. Weighted
    uncentred, their (positive) rewards would then push up the very choices that made their
    population the worst. Less their population's mean, a tail world is paid for doing better
    than the rest of its population (the baseline of Tamar et al.'s CVaR gradient, there the
    value at risk; here each population's own mean, like the group baseline of
    :mod:`coopsim.credit`)."""
    if kind == "mean":
        return paid
    means, _ = population_means(paid, population, num_populations)
    centred = paid - means[population]
    return centred * reward_weights(objective, population, num_populations, kind, alpha)


def reward_weights(
    objective: Tensor,
    population: Tensor,
    num_populations: int,
    kind: str,
    alpha: float | None = None,
) -> Tensor:
    """[W] each world's reward multiplier ``W w_k / n_k``: the mean of ``weights * objective``
    is :func:`aggregate`, so PPO on the weighted rewards follows the robust objective's
    gradient; all ones for 'mean'."""
    if kind == "mean":
        return torch.ones_like(objective)
    means, counts = population_means(objective, population, num_populations)
    w = tail_weights(means, counts, _share(kind, alpha))
    per_world = objective.numel() * w / counts.clamp(min=1)
    return per_world[population]
