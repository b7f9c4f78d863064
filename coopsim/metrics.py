"""Welfare, equality and cooperation metrics over a population of agents.

Every metric takes a numpy array or a torch tensor of shape ``[..., N]`` (``N`` agents on the last
axis) and reduces that axis. The result is of the same kind as the input:

* numpy input gives a numpy array (a numpy scalar for 1-D input) with the input's float dtype
  (float64 for integer or boolean input); the arithmetic is done in float64;
* torch input gives a tensor on the same device with the same float dtype (the default float
  dtype for integer or boolean input), computed with torch ops and therefore differentiable, so
  a planner can use e.g. :func:`equality_times_productivity` as a training objective.

Each metric is written once, in torch: numpy input is converted to a float64 tensor and the
result converted back. Nothing loops over agents or batch elements in Python.

Degenerate inputs follow the usual conventions: a population that holds nothing is perfectly
equal (every inequality index is 0), and ``0 ln 0 = 0``. Gradients stay finite at those points
(the ``where`` guards never divide by zero or take the log of zero in a taken branch).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

__all__ = [
    "WELFARE_METRICS",
    "all_metrics",
    "atkinson",
    "contribution_rate",
    "efficiency",
    "equality",
    "equality_times_productivity",
    "gini",
    "nash_welfare",
    "productivity",
    "rawls_welfare",
    "theil",
    "utilitarian_welfare",
]

#: What the metrics accept and return: numpy arrays (or array-likes such as lists) and tensors.
ArrayLike = np.ndarray | torch.Tensor | Sequence[float] | float
#: What the metrics return: a tensor for tensor input, else a numpy array or numpy scalar.
Metric = np.ndarray | np.floating | torch.Tensor


# --------------------------------------------------------------------------------------------
# Dispatch helpers
# --------------------------------------------------------------------------------------------


def _to_tensor(x: ArrayLike) -> tuple[torch.Tensor, Callable[[torch.Tensor], Metric]]:
    """Return ``x`` as a float tensor and a function mapping a result back to ``x``'s kind."""
    if isinstance(x, torch.Tensor):
        t = x if x.is_floating_point() else x.to(torch.get_default_dtype())
        return t, lambda r: r

    arr = np.asarray(x)
    out_dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.dtype(np.float64)
    arr64 = np.asarray(arr, dtype=np.float64)
    if not arr64.flags.writeable:  # torch.from_numpy warns on read-only memory
        arr64 = arr64.copy()

    def back(r: torch.Tensor) -> Metric:
        res = r.detach().cpu().numpy().astype(out_dtype, copy=False)
        return res[()] if res.ndim == 0 else res

    return torch.from_numpy(arr64), back


def _agents(
    x: ArrayLike, name: str, nonnegative: bool = False
) -> tuple[torch.Tensor, Callable[[torch.Tensor], Metric]]:
    """Convert ``x`` and validate that it has a non-empty agent axis (and no negative values)."""
    t, back = _to_tensor(x)
    if t.ndim == 0:
        raise ValueError(
            f"{name}: expected an array of shape [..., N] with agents on the last axis, "
            "got a 0-dimensional value"
        )
    if t.shape[-1] == 0:
        raise ValueError(f"{name}: the agent axis (last axis) is empty, N must be at least 1")
    if nonnegative and t.numel() > 0 and bool(t.min() < 0):
        raise ValueError(f"{name}: values must be non-negative, got minimum {float(t.min()):g}")
    return t, back


def _safe_mean(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean over the last axis, and the same with zeros replaced by one (a safe divisor)."""
    mu = t.mean(dim=-1)
    return mu, torch.where(mu > 0, mu, torch.ones_like(mu))


# --------------------------------------------------------------------------------------------
# Implementations on float tensors (shared by the public functions)
# --------------------------------------------------------------------------------------------


def _gini(t: torch.Tensor) -> torch.Tensor:
    n = t.shape[-1]
    # sum_i sum_j |x_i - x_j| = 2 sum_k (2k - n - 1) x_(k) for x sorted ascending (k = 1..n),
    # which gives the pairwise definition in O(N log N) time and O(N) memory.
    ranks = torch.arange(1, n + 1, device=t.device, dtype=t.dtype)
    weighted = (torch.sort(t, dim=-1).values * (2 * ranks - n - 1)).sum(dim=-1)
    total = t.sum(dim=-1)
    safe_total = torch.where(total > 0, total, torch.ones_like(total))
    return torch.where(total > 0, weighted / (n * safe_total), torch.zeros_like(total))


def _equality(t: torch.Tensor) -> torch.Tensor:
    n = t.shape[-1]
    if n == 1:
        return torch.ones_like(t[..., 0])
    return 1 - _gini(t) * (n / (n - 1))


def _atkinson(t: torch.Tensor, epsilon: float) -> torch.Tensor:
    mu, safe_mu = _safe_mean(t)
    r = t / safe_mu.unsqueeze(-1)  # scale-free shares; all zero when mu == 0
    positive = r > 0
    safe_r = torch.where(positive, r, torch.ones_like(r))
    any_zero = ~positive.all(dim=-1)
    if epsilon == 1:
        ratio = torch.exp(torch.log(safe_r).mean(dim=-1))  # geometric mean / mean
        ratio = torch.where(any_zero, torch.zeros_like(ratio), ratio)
    else:
        p = 1.0 - epsilon
        # r**p is smooth at 0 only for p >= 1 (epsilon == 0); otherwise guard its gradient.
        powered = r if p == 1 else torch.where(positive, safe_r**p, torch.zeros_like(r))
        ratio = powered.mean(dim=-1) ** (1.0 / p)  # generalised mean of order p / mean
        if p < 0:  # a zero value sends the generalised mean of negative order to 0
            ratio = torch.where(any_zero, torch.zeros_like(ratio), ratio)
    return torch.where(mu > 0, 1 - ratio, torch.zeros_like(mu))


def _theil(t: torch.Tensor) -> torch.Tensor:
    _, safe_mu = _safe_mean(t)
    r = t / safe_mu.unsqueeze(-1)
    positive = r > 0
    safe_r = torch.where(positive, r, torch.ones_like(r))
    terms = torch.where(positive, r * torch.log(safe_r), torch.zeros_like(r))
    return terms.mean(dim=-1)


def _nash(t: torch.Tensor) -> torch.Tensor:
    positive = t > 0
    safe_t = torch.where(positive, t, torch.ones_like(t))
    geo = torch.exp(torch.log(safe_t).mean(dim=-1))
    return torch.where(positive.all(dim=-1), geo, torch.zeros_like(geo))


# --------------------------------------------------------------------------------------------
# Inequality / equality
# --------------------------------------------------------------------------------------------


def gini(x: ArrayLike) -> Metric:
    """Gini coefficient of non-negative values over the last axis.

    Mean-absolute-difference definition (Gini 1912; Sen 1973, *On Economic Inequality*):
    ``G = sum_i sum_j |x_i - x_j| / (2 N^2 mean(x))``, so ``G`` is 0 under perfect equality and
    ``(N - 1) / N`` when one agent holds everything. All-zero input gives 0.

    >>> float(gini(np.array([0, 0, 0, 1])))
    0.75
    >>> gini(torch.tensor([[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0]]))
    tensor([0.2500, 0.0000])
    """
    t, back = _agents(x, "gini", nonnegative=True)
    return back(_gini(t))


def equality(x: ArrayLike) -> Metric:
    """Equality as defined by the AI Economist: ``1 - gini(x) * N / (N - 1)``.

    Zheng et al. 2020, *The AI Economist* (arXiv:2004.13332), rescale the Gini coefficient so
    that equality is 1 when everybody holds the same and 0 when one agent holds everything.
    A single agent (``N == 1``) is perfectly equal: 1.

    >>> round(float(equality(np.array([1, 2, 3, 4]))), 6)
    0.666667
    """
    t, back = _agents(x, "equality", nonnegative=True)
    return back(_equality(t))


def atkinson(x: ArrayLike, epsilon: float = 0.5) -> Metric:
    """Atkinson index ``1 - M_{1 - epsilon}(x) / mean(x)`` (Atkinson 1970, J. Econ. Theory 2).

    ``M_p`` is the generalised (power) mean of order ``p``; ``epsilon = 1`` uses the geometric
    mean. ``epsilon >= 0`` is the inequality aversion (0: indifferent, the index is 0). With
    ``epsilon >= 1`` any zero value gives index 1; all-zero input gives 0.

    >>> round(float(atkinson(np.array([1.0, 4.0]), epsilon=1)), 6)
    0.2
    >>> round(float(atkinson(np.array([1.0, 4.0]), epsilon=0.5)), 6)
    0.1
    """
    epsilon = float(epsilon)
    if not epsilon >= 0:
        raise ValueError(f"atkinson: epsilon must be >= 0, got {epsilon!r}")
    t, back = _agents(x, "atkinson", nonnegative=True)
    return back(_atkinson(t, epsilon))


def theil(x: ArrayLike) -> Metric:
    """Theil T index ``(1/N) sum_i (x_i / mu) ln(x_i / mu)`` (Theil 1967).

    Uses ``0 ln 0 = 0``; ranges from 0 (perfect equality) to ``ln N`` (one agent holds
    everything). All-zero input gives 0.

    >>> round(float(theil(np.array([0.0, 2.0]))), 6)  # ln 2
    0.693147
    """
    t, back = _agents(x, "theil", nonnegative=True)
    return back(_theil(t))


# --------------------------------------------------------------------------------------------
# Welfare
# --------------------------------------------------------------------------------------------


def productivity(x: ArrayLike) -> Metric:
    """Total over agents: the AI Economist's productivity (Zheng et al. 2020)."""
    t, back = _agents(x, "productivity")
    return back(t.sum(dim=-1))


def utilitarian_welfare(x: ArrayLike) -> Metric:
    """Utilitarian (Bentham) social welfare: the *sum* of utilities over agents.

    The mean utility is ``productivity(x) / N``.

    >>> float(utilitarian_welfare(np.array([1.0, 2.0, 3.0])))
    6.0
    """
    t, back = _agents(x, "utilitarian_welfare")
    return back(t.sum(dim=-1))


def nash_welfare(x: ArrayLike) -> Metric:
    """Nash social welfare as the geometric mean of utilities over agents.

    Nash welfare (Nash 1950; Kaneko & Nakamura 1979) is defined on positive utilities, so the
    result is 0 if any value is ``<= 0``. The geometric mean (the N-th root of the Nash product)
    keeps the scale of the utilities and does not overflow for large N.

    >>> round(float(nash_welfare(np.array([1.0, 4.0]))), 6)
    2.0
    """
    t, back = _agents(x, "nash_welfare")
    return back(_nash(t))


def rawls_welfare(x: ArrayLike) -> Metric:
    """Rawlsian (maximin) welfare: the utility of the worst-off agent (Rawls 1971)."""
    t, back = _agents(x, "rawls_welfare")
    return back(t.amin(dim=-1))


def fehr_schmidt_utility(payoff: torch.Tensor, aversion: torch.Tensor) -> torch.Tensor:
    """Inequity-averse utility (Fehr and Schmidt 1999, "A theory of fairness, competition, and
    cooperation", QJE 114(3), eq. 1): each agent's own payoff less ``alpha / (N - 1)`` times
    what the others have above it and ``beta / (N - 1)`` times what it has above them,

        U_i = x_i - alpha_i / (N - 1) sum_j max(x_j - x_i, 0)
                  - beta_i / (N - 1) sum_j max(x_i - x_j, 0).

    Why: people judge an allocation by how it treats others as well as themselves; alpha
    prices envy, beta guilt. ``payoff`` [..., N]; ``aversion`` [..., N, 2] each agent's
    (alpha, beta), broadcast against ``payoff``. With alpha = beta = 0 it is the payoff."""
    n = payoff.shape[-1]
    if n < 2:
        raise ValueError("inequity aversion compares an agent with others: need N >= 2")
    if aversion.shape[-1] != 2:
        raise ValueError(
            f"aversion holds (alpha, beta) per agent, got shape {tuple(aversion.shape)}"
        )
    gap = payoff[..., None, :] - payoff[..., :, None]  # [..., i, j] = x_j - x_i
    behind = gap.clamp(min=0).sum(-1)  # what the others have above i
    ahead = (-gap).clamp(min=0).sum(-1)  # what i has above them
    aversion = aversion.to(payoff)  # its dtype and device
    return payoff - (aversion[..., 0] * behind + aversion[..., 1] * ahead) / (n - 1)


def equality_times_productivity(x: ArrayLike) -> Metric:
    """``equality(x) * productivity(x)``: the AI Economist planner's objective (Zheng et al.)."""
    t, back = _agents(x, "equality_times_productivity", nonnegative=True)
    return back(_equality(t) * t.sum(dim=-1))


# --------------------------------------------------------------------------------------------
# Cooperation
# --------------------------------------------------------------------------------------------


def contribution_rate(contributions: ArrayLike, endowment: ArrayLike | float) -> Metric:
    """Mean fraction of the endowment contributed, over agents (the last axis).

    The standard cooperation measure of public-goods experiments (Ledyard 1995; Fehr & Gaechter
    2000). ``endowment`` broadcasts against ``contributions`` of shape ``[..., N]``: a scalar,
    per-agent endowments ``[N]``, or per-game endowments given as ``[..., 1]``.

    >>> float(contribution_rate(np.array([20, 0, 10, 10]), 20))
    0.5
    """
    t, back = _agents(contributions, "contribution_rate")
    if isinstance(endowment, torch.Tensor):
        e = endowment.to(device=t.device, dtype=t.dtype)
    else:
        e = torch.as_tensor(np.asarray(endowment, dtype=np.float64), device=t.device)
        e = e.to(t.dtype)
    return back((t / e).mean(dim=-1))


def efficiency(total_payoff: ArrayLike, optimum_total: ArrayLike) -> Metric | float:
    """Realised total payoff divided by the social optimum's total payoff (elementwise).

    1 means the group reached the social optimum; in a linear public-goods game everybody
    free-riding gives ``1 / (marginal per-capita return * N)``. Both arguments broadcast. A tensor
    in either argument gives a tensor (on that tensor's device); otherwise numpy semantics apply
    (two Python floats give a numpy float).

    >>> float(efficiency(30.0, 40.0))
    0.75
    """
    if isinstance(total_payoff, torch.Tensor):
        return total_payoff / _divisor_like(optimum_total, total_payoff)
    if isinstance(optimum_total, torch.Tensor):
        return _divisor_like(total_payoff, optimum_total) / optimum_total
    return np.true_divide(np.asarray(total_payoff), np.asarray(optimum_total))[()]


def _divisor_like(v: ArrayLike, ref: torch.Tensor) -> torch.Tensor | float:
    """``v`` as an operand for arithmetic with tensor ``ref`` (a Python number stays as is)."""
    if isinstance(v, torch.Tensor):
        return v.to(ref.device)
    if isinstance(v, (int, float)):
        return v
    return torch.as_tensor(np.asarray(v), device=ref.device)


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

#: Every population metric of this module by name; each maps ``[..., N]`` wealth to ``[...]``.
WELFARE_METRICS: dict[str, Callable[[ArrayLike], Metric]] = {
    "gini": gini,
    "equality": equality,
    "atkinson": atkinson,
    "theil": theil,
    "productivity": productivity,
    "utilitarian_welfare": utilitarian_welfare,
    "nash_welfare": nash_welfare,
    "rawls_welfare": rawls_welfare,
    "equality_times_productivity": equality_times_productivity,
}


def all_metrics(wealth: ArrayLike) -> dict[str, Metric]:
    """Evaluate every metric of :data:`WELFARE_METRICS` on ``[..., N]`` wealth.

    >>> sorted(all_metrics(np.array([1.0, 1.0]))) == sorted(WELFARE_METRICS)
    True
    """
    return {name: fn(wealth) for name, fn in WELFARE_METRICS.items()}
