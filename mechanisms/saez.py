"""The Saez (2001) optimal-tax formula, and a bracket schedule that learns it from incomes.

Its own module because it is a model of taxpayers (the income distribution, the elasticity of
taxable income) rather than the mechanics of collecting a tax: :class:`~mechanisms.tax.BracketTax`
with ``schedule = "saez"`` holds a :class:`SaezSchedule` and asks it for rates each period.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from mechanisms.brackets import marginal_rates


class SaezParams(Protocol):
    """What the schedule reads of :class:`~mechanisms.tax.TaxParams` (declared here, not
    imported: the tax imports this module)."""

    rates: Sequence[float]  # [K] the schedule before any income is seen
    memory: int  # income observations kept
    elasticity: float  # the prior
    estimate_elasticity: bool
    elasticity_smoothing: float
    saez_formula: str  # 'cutoff' (saez_rates) or 'binned' (saez_rates_binned, the reference's)
    elasticity_estimator: str  # 'within' (estimate_elasticity) or 'pooled' (the reference's)


# Welfare weights are 1 / max(z, floor): an agent earning nothing weighs as one earning 1 coin,
# as in the AI Economist's inverse-income weights.
SAEZ_WEIGHT_FLOOR = 1.0


def saez_rates(income: Tensor, cutoffs: Tensor, elasticity: float) -> Tensor:
    """Saez's optimal marginal rate at each bracket's lower cutoff, from incomes ``[M]`` -> [K].

    ``tau(z) = (1 - G(z)) / (1 - G(z) + a(z) * e)`` (Saez 2001), evaluated at ``z = b_k``
    where bracket k's rate starts to apply:

    * ``G(z)``: the mean social welfare weight of the incomes above z, the weights being
      inverse income (``1 / max(z, 1)``, the AI Economist's choice) normalised to mean 1 over
      everybody, so ``1 - G(z)`` is how much less society values a coin in the hands of those
      above z than a coin shared by all (the rebate);
    * ``a(z) = zbar / (zbar - z)`` with ``zbar`` the mean income above z: the local Pareto
      parameter in the form Saez uses for the tail. With a handful of agents the density form
      ``z h(z) / (1 - H(z))`` is a row of spikes and empty gaps, while the mean above z is
      defined wherever anybody earns more than z;
    * ``e``: the elasticity of taxable income with respect to the net-of-tax rate ``1 - tau``.

    Nobody above a cutoff means nothing to go on: that bracket keeps the rate of the one below
    (0 when nobody earns anything). Rates are clipped to [0, 1].
    """
    z = income.reshape(-1).clamp(min=0)  # [M]
    cut = cutoffs.to(z)  # [K]
    w = 1.0 / z.clamp(min=SAEZ_WEIGHT_FLOOR)  # [M] inverse-income welfare weights
    w = w / w.mean()
    above = (z[:, None] > cut[None, :]).to(z.dtype)  # [M, K]
    count = above.sum(0)  # [K]
    g = (w[:, None] * above).sum(0) / count.clamp(min=1)  # [K] mean weight above b_k
    zbar = (z[:, None] * above).sum(0) / count.clamp(min=1)  # [K] mean income above b_k
    a = zbar / (zbar - cut).clamp(min=1e-9)  # [K]
    tau = ((1 - g) / (1 - g + a * elasticity + 1e-12)).clamp(0.0, 1.0)  # [K]
    # Carry the last defined rate up through brackets nobody reaches.
    k = torch.arange(cut.numel(), device=z.device)
    last = torch.where(count > 0, k, torch.full_like(k, -1)).cummax(0).values  # [K]
    return torch.where(last >= 0, tau[last.clamp(min=0)], torch.zeros_like(tau))


def saez_rates_binned(
    income: Tensor, cutoffs: Tensor, elasticity: float, bins: int = 100
) -> Tensor:
    """The AI Economist's Saez rates from incomes ``[M]`` -> [K]: its binned formula, ported.

    Where :func:`saez_rates` evaluates the formula at each bracket's lower cutoff, the reference
    (``PeriodicBracketTax.get_binned_saez_welfare_weight_and_pareto_params``,
    ``get_saez_marginal_rates`` and ``bracketize_schedule``) bins the incomes in ``bins`` equal
    bins from 0 to the top cutoff and, per bin, takes the mean inverse-income weight of the
    incomes at or above it (averaged over the bin's two edges), the Pareto parameter from the
    binned density ``A(z) = z p(z) / P(z' >= z)`` per bin width (the tail above the top cutoff
    from its mean income), and the rate ``(1 - G) / (1 - G + A e)``; empty bins are filled by
    linear interpolation, the bins' rates are averaged over each bracket (the tax they would
    take on an income at its top, less the tax below it, per bracket width), and the top
    bracket takes the tail's rate: 100% when nobody earns above the top cutoff. The result is
    clipped to [0, 1]. Computed in float64 with numpy, as the reference does; it runs once per
    tax period.
    """
    z = income.detach().reshape(-1).double().cpu().numpy()
    cut = cutoffs.detach().double().cpu().numpy()
    edges = np.linspace(0.0, cut[-1], bins + 1)
    counts, _ = np.histogram(z, bins=edges)
    below, above = z[z < edges[0]], z[z > edges[-1]]
    n_total = counts.sum() + below.size + above.size

    def weight(x: np.ndarray) -> np.ndarray:
        return 1.0 / np.maximum(1.0, x)  # inverse income, as the reference's default

    mid = 0.5 * (edges[:-1] + edges[1:])  # [bins] the z of each bin
    pz = np.concatenate([counts, [above.size]]) / n_total  # [bins + 1] (the tail last)
    cum_pz = np.minimum(np.cumsum(pz) + below.size / n_total, 1.0)
    # G: mean normalised weight of the incomes at or above each bin, then averaged over edges
    w_bins = np.concatenate([counts * weight(mid), [weight(above).sum() if above.size else 0.0]])
    w_total = w_bins.sum() + (weight(np.maximum(below, 0)).sum() if below.size else 0.0)
    density_geq = np.cumsum((w_bins / (w_total + 1e-9))[::-1])[::-1]
    prob_geq = np.cumsum(pz[::-1])[::-1]
    g_edge = density_geq / (prob_geq + 1e-9)
    g = np.concatenate([0.5 * (g_edge[:-1] + g_edge[1:]), [g_edge[-1]]])  # [bins + 1]
    # A: the binned density form per bin width, the tail's from its mean income
    p_geq = np.clip(1 - cum_pz[:-1] + 0.5 * pz[:-1], 0.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(pz[:-1] > 0, mid * pz[:-1] / (p_geq + 1e-9) / np.diff(edges), np.nan)
    a_top = above.mean() / (above.mean() - edges[-1] + 1e-9) if above.size else 0.0
    a = np.concatenate([a, [a_top]])
    tau = (1.0 - g) / (1.0 - g + a * elasticity + 1e-9)  # NaN in empty bins
    # fill empty bins by linear interpolation from the last defined rate (0 before any)
    last_rate, last_i = 0.0, -1
    for i in range(tau.size):
        if np.isnan(tau[i]):
            continue
        if i - last_i > 1:
            tau[last_i + 1 : i] = np.linspace(last_rate, tau[i], i - last_i + 1)[1:-1]
        last_rate, last_i = float(tau[i]), i
    # average the bins' rates over each bracket
    sizes = np.concatenate([np.diff(edges), [np.inf]])
    out, below_total = [], 0.0
    for k, top in enumerate(cut[1:]):
        taxed = np.minimum(sizes, np.maximum(0.0, top - edges))  # [bins + 1] income per bin
        total = max(0.0, float(np.sum(tau * taxed)))
        out.append((total - below_total) / (cut[k + 1] - cut[k]))
        below_total = total
    out.append(float(tau[-1]))
    return torch.tensor(np.clip(out, 0.0, 1.0), dtype=income.dtype, device=income.device)


class SaezSchedule:
    """The Saez formula as a tax schedule that learns from the incomes it sees.

    Why it learns: Saez's formula needs the income distribution and the elasticity of taxable
    income *under the schedule in force*, and both move when agents respond to taxes. Like the
    AI Economist's Saez planner, the schedule therefore keeps a buffer of the most recent
    ``memory`` incomes (one per agent per tax period, pooled over the B worlds and over
    episodes) with the marginal rates then in force, and after every collection recomputes the
    rates from the buffer (:func:`saez_rates`). Iterated, rates and responses settle together.

    The elasticity is estimated by regressing log income on log(1 - marginal rate), as the AI
    Economist does, with three changes:

    * within agent (seat) fixed effects: across agents, skilled agents earn more *and* face
      higher brackets, which alone would make income look like it rises with the tax;
    * the rate is the one each schedule sets at the agent's typical income (its geometric
      mean income in the buffer), not at the income it chose: an agent that works more climbs
      into a higher bracket, a mechanical link Gruber & Saez (2002) remove the same way.
      Only changes of the schedule move this rate, so they alone identify the elasticity;
    * incomes below one coin count as one coin instead of being dropped: an agent that stops
      working is the largest response there is, and leaving it out would make a schedule that
      drives agents out of work look costless.

    As in the AI Economist, each regression's slope (floored at 0) moves a running estimate
    that starts at the prior ``elasticity`` and keeps ``elasticity_smoothing`` of its weight per
    update, so the schedule does not chase the lagging responses of agents that are still
    learning; with no variation in rates yet there is no regression and the estimate stays.

    The state is kept across episodes: :meth:`BracketTax.reset` (a new episode) leaves it
    alone, so learning spans episodes, and :meth:`clone` copies it into another world
    (evaluation after training).
    """

    def __init__(self, params: SaezParams, num_agents: int, cutoffs: Tensor, device: torch.device):
        self.params = params
        self.num_agents = num_agents
        self.cutoffs = cutoffs  # [K]
        m, k = params.memory, cutoffs.numel()
        self.income = torch.zeros(m, device=device)  # [M] ring buffer of observed incomes
        self.seat = torch.zeros(m, dtype=torch.long, device=device)  # [M] agent index
        self.rates = torch.zeros(m, k, device=device)  # [M, K] schedule in force then
        self.size = 0  # filled entries
        self.head = 0  # next write position
        self.elasticity = float(params.elasticity)  # current estimate
        self.schedule = torch.tensor(params.rates, dtype=torch.float32, device=device)  # [K]

    def observe(self, income: Tensor, rates: Tensor) -> None:
        """Add one period's incomes [B, N] and the rates [B, K] they were earned under."""
        b, n = income.shape
        m = self.income.numel()
        z = income.reshape(-1)  # [B*N]
        seat = torch.arange(n, device=z.device).repeat(b)  # [B*N]
        r = rates[:, None, :].expand(b, n, -1).reshape(b * n, -1)  # [B*N, K]
        if z.numel() > m:  # keep the most recent
            z, seat, r = z[-m:], seat[-m:], r[-m:]
        pos = (self.head + torch.arange(z.numel(), device=z.device)) % m  # [S]
        self.income[pos], self.seat[pos], self.rates[pos] = z, seat, r
        self.head = (self.head + z.numel()) % m
        self.size = min(m, self.size + z.numel())

    def update(self) -> Tensor:
        """Re-estimate the elasticity and the schedule from the buffer; returns rates [K]."""
        z = self.income[: self.size]  # [M]
        if self.size == 0 or not bool((z > 0).any()):
            return self.schedule  # nothing earned yet: nothing to go on
        if self.params.estimate_elasticity:
            self.elasticity = self.estimate_elasticity()
        formula = saez_rates_binned if self.params.saez_formula == "binned" else saez_rates
        self.schedule = formula(z, self.cutoffs, self.elasticity)
        return self.schedule

    def estimate_elasticity_pooled(self) -> float:
        """The AI Economist's estimate (``estimate_uniform_income_elasticity``): one OLS of log
        income on log(1 - marginal rate at the income earned) over the whole buffer, incomes
        above 0 and rates below 1 only, at least 10 of them and rates that vary; the slope,
        floored at 0, moves the running estimate as :meth:`estimate_elasticity`'s does."""
        z, rates = self.income[: self.size], self.rates[: self.size]
        tau = marginal_rates(z[:, None], self.cutoffs, rates)[:, 0]  # [M] at the income earned
        keep = (z > 0) & (tau < 1)
        z, tau = z[keep].double(), tau[keep].double()
        if z.numel() < 10 or float(tau.std(correction=0)) < 1e-6:
            return self.elasticity
        x = torch.log((1 - tau).clamp(min=1e-9))
        y = torch.log(z.clamp(min=1e-9))
        xd = x - x.mean()
        slope = max(0.0, float((xd * (y - y.mean())).sum() / (xd * xd).sum()))
        keep_w = self.params.elasticity_smoothing
        return keep_w * self.elasticity + (1 - keep_w) * slope

    def estimate_elasticity(self) -> float:
        """The running estimate, moved towards this buffer's within-agent regression slope
        (or, with ``elasticity_estimator = 'pooled'``, :meth:`estimate_elasticity_pooled`)."""
        if self.params.elasticity_estimator == "pooled":
            return self.estimate_elasticity_pooled()
        n = self.num_agents
        z, seat, rates = self.income[: self.size], self.seat[: self.size], self.rates[: self.size]
        y = torch.log(z.clamp(min=SAEZ_WEIGHT_FLOOR))  # [M] log income, no work = one coin
        count = torch.zeros(n, device=z.device).index_add_(0, seat, torch.ones_like(y))  # [N]
        mean_log = torch.zeros(n, device=z.device).index_add_(0, seat, y) / count.clamp(min=1)
        typical = torch.exp(mean_log)  # [N] geometric mean income of each agent
        tau = marginal_rates(typical[seat][:, None], self.cutoffs, rates)[:, 0]  # [M]
        x = torch.log((1 - tau).clamp(min=1e-3))  # [M] log net-of-tax rate

        def demean(v: Tensor) -> Tensor:
            sums = torch.zeros(n, device=v.device).index_add_(0, seat, v)
            return v - (sums / count.clamp(min=1))[seat]

        xd, yd = demean(x), demean(y)
        sxx = float((xd * xd).sum())
        if sxx < 1e-6 * self.size:  # the rates have not moved: nothing to regress on
            return self.elasticity
        slope = max(0.0, float((xd * yd).sum()) / sxx)
        keep = self.params.elasticity_smoothing
        return keep * self.elasticity + (1 - keep) * slope

    def state_dict(self) -> dict:
        """What it has learned, for checkpoints (tensors and numbers only)."""
        names = ("income", "seat", "rates", "schedule")
        return {
            **{k: getattr(self, k).clone() for k in names},
            "size": self.size,
            "head": self.head,
            "elasticity": self.elasticity,
        }

    def load_state_dict(self, state: dict) -> None:
        for k in ("income", "seat", "rates", "schedule"):
            setattr(self, k, state[k].to(getattr(self, k).device, copy=True))  # not aliased
        self.size, self.head = int(state["size"]), int(state["head"])
        self.elasticity = float(state["elasticity"])

    def clone(self) -> SaezSchedule:
        """An independent copy (buffers cloned)."""
        other = SaezSchedule.__new__(SaezSchedule)
        other.__dict__.update(self.__dict__)
        for name in ("income", "seat", "rates", "schedule"):
            setattr(other, name, getattr(self, name).clone())
        return other
