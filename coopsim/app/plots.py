"""Compare-page figures, taken from :mod:`coopsim.figures` where it provides them.

:func:`figure` looks a figure up by name in ``coopsim.figures`` first and falls back to the
small matplotlib versions here, which take the same arguments (runs from
:func:`coopsim.record.load_run`) and return a :class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from coopsim.record import RunData  # noqa: E402


def run_label(run: RunData) -> str:
    """Short legend label: scenario, seed and the run's time stamp."""
    return run.name


def _final_wealth(run: RunData) -> np.ndarray:
    """[episodes, N] wealth at the end of each episode."""
    ep = run.episodes
    last = ep[ep["round"] == ep["round"].max()]
    return last.pivot_table(index="episode", columns="agent", values="wealth").to_numpy()


def lorenz_curves(runs: Sequence[RunData]) -> Figure:
    """Lorenz curve of end-of-episode wealth, pooled over episodes, one line per run."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect equality")
    for run in runs:
        w = np.sort(np.clip(_final_wealth(run), 0, None), axis=1)  # [E, N]
        share = np.cumsum(w, axis=1) / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
        curve = np.concatenate([[0.0], share.mean(axis=0)])
        x = np.linspace(0, 1, curve.size)
        ax.plot(x, curve, marker="o", label=run_label(run))
    ax.set(
        title="Lorenz curves of end-of-episode wealth",
        xlabel="cumulative share of agents (poorest first)",
        ylabel="cumulative share of wealth",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def wealth_over_time(run: RunData) -> Figure:
    """Mean accumulated wealth per agent by round (mean over evaluation episodes)."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ep = run.episodes
    mean = ep.groupby(["round", "agent"], observed=True)["wealth"].mean().unstack("agent")
    policies = ep.groupby("agent", observed=True)["policy"].first()
    for agent in mean.columns:
        ax.plot(mean.index + 1, mean[agent], label=f"agent {agent} ({policies[agent]})")
    ax.set(
        title=f"Wealth over time: {run_label(run)}",
        xlabel="round",
        ylabel="accumulated net payoff (coins)",
    )
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def contributions_per_round(runs: Sequence[RunData]) -> Figure:
    """Mean contribution per agent by round, one line per run."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for run in runs:
        mean = run.episodes.groupby("round")["contribution"].mean()
        ax.plot(mean.index + 1, mean.to_numpy(), marker=".", label=run_label(run))
    ax.set(
        title="Contributions per round",
        xlabel="round",
        ylabel="mean contribution per agent (coins)",
    )
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def mechanism_parameters(run: RunData) -> Figure | None:
    """The tax schedule (marginal rate against income) where the run has a tax, else None."""
    taxes = [m for m in run.scenario.get("mechanisms", []) if m.get("kind") == "tax"]
    if not taxes:
        return None
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for i, tax in enumerate(taxes):
        cutoffs = np.asarray(tax.get("brackets", [0.0]), dtype=float) * tax.get("scale", 1.0)
        rates = np.asarray(tax.get("rates", [0.0]), dtype=float)
        top = cutoffs[-1] * 1.5 if cutoffs[-1] > 0 else 1.0
        xs = np.append(cutoffs, top)
        ax.step(xs, np.append(rates, rates[-1]), where="post", label=f"tax {i + 1}")
    ax.set(
        title=f"Tax schedule: {run_label(run)}",
        xlabel="taxable income per period (coins)",
        ylabel="marginal tax rate",
        ylim=(0, 1),
    )
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def equality_vs_productivity(runs: Sequence[RunData]) -> Figure:
    """One point per run with 95% confidence intervals on both axes."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for run in runs:
        m = run.summary.get("metrics", {})
        if "equality" not in m or "productivity" not in m:
            continue
        p, e = m["productivity"], m["equality"]
        ax.errorbar(
            p["mean"],
            e["mean"],
            xerr=[[p["mean"] - p["ci_low"]], [p["ci_high"] - p["mean"]]],
            yerr=[[e["mean"] - e["ci_low"]], [e["ci_high"] - e["mean"]]],
            fmt="o",
            capsize=3,
            label=run_label(run),
        )
    ax.set(
        title="Equality versus productivity (95% CI)",
        xlabel="productivity: total net payoff of all agents per episode (coins)",
        ylabel="equality: 1 - Gini x N/(N-1)",
    )
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def figure(name: str) -> Callable[..., Any]:
    """The figure function ``name``: coopsim.figures' when it has one, else this module's."""
    try:
        shared = importlib.import_module("coopsim.figures")
    except ImportError:
        shared = None
    fn = getattr(shared, name, None) if shared is not None else None
    return fn if callable(fn) else globals()[name]
