"""How rules and agents changed over training: a mechanism's parameters (tax schedules), any
logged metric per iteration, and what agents spent their labour on (specialisation)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from coopsim.analysis import tables, training
from coopsim.figures.style import (
    MAX_PANELS,
    CoopsimFigure,
    _colors,
    axis_label,
    empty_figure,
    legend_below,
    panel_title,
    whole_ticks,
)
from coopsim.measures import MEASURES
from coopsim.record import RunData


def _step_schedule(ax, cutoffs: np.ndarray, rates: np.ndarray, top: float, **style) -> None:
    """Draw marginal rates [K] over income as a step function from 0 to ``top``."""
    xs = np.append(cutoffs, top)
    ys = np.append(rates, rates[-1]) * 100
    ax.step(xs, ys, where="post", **style)


def mechanism_parameters(run: RunData) -> Figure:
    """The run's mechanisms at work: the tax schedule and what each mechanism moved per round.

    Left (when the run has a tax): marginal rate by income bracket as configured and, when
    training logged the planner's rates, the learned schedule at the last logged iteration.
    Right: per round, what each mechanism collected from agents (taxes, fines) and paid to them
    (rebates, matching funds), mean over episodes. A run without mechanisms gets a figure
    that says so.
    """
    name = run.summary.get("scenario", run.name)
    schedules = training.tax_schedules(run)
    flows = tables.mechanism_flows(run)
    if schedules.empty and flows.empty:
        return empty_figure(
            f"Mechanism parameters: {name}",
            "This run has no mechanism: no tax schedule and no transfers to show.",
        )
    panels = int(not schedules.empty) + int(not flows.empty)
    # Stacked, so the figure keeps a page's width in reports and the app's column.
    fig = CoopsimFigure(figsize=(7.0, 3.6 * panels + 0.5), layout="constrained")
    axes = fig.subplots(panels, 1, squeeze=False)[:, 0]
    i = 0
    if not schedules.empty:
        ax = axes[i]
        i += 1
        cfg = schedules[schedules["source"] == "config"]
        learned = schedules[schedules["source"] == "training"]
        cut_all = schedules["cutoff"].dropna()
        top = float(cut_all.max()) * 1.5 if len(cut_all) and cut_all.max() > 0 else 1.0
        if not cfg.empty:
            _step_schedule(ax, cfg["cutoff"].to_numpy(), cfg["rate"].to_numpy(), top,
                           color="C0", linewidth=2,
                           label="configured" if learned.empty else "configured at the start")  # fmt: skip
        if not learned.empty and learned["cutoff"].notna().all():
            last = learned[learned["iteration"] == learned["iteration"].max()]
            first = learned[learned["iteration"] == learned["iteration"].min()]
            # a planner learns its rates; a Saez schedule is recomputed from incomes
            source = "planner's" if run.scenario.get("planner") else "in force"
            _step_schedule(ax, first["cutoff"].to_numpy(), first["rate"].to_numpy(), top,
                           color="C1", linestyle=":", label=f"{source}, iteration "
                           f"{first['iteration'].iloc[0]:g}")  # fmt: skip
            _step_schedule(ax, last["cutoff"].to_numpy(), last["rate"].to_numpy(), top,
                           color="C3", linewidth=2, label=f"{source}, iteration "
                           f"{last['iteration'].iloc[0]:g}")  # fmt: skip
        ax.set_xlabel("income per tax period (coins)")
        ax.set_ylabel("marginal tax rate (%)")
        ax.set_ylim(0, max(5.0, float(schedules["rate"].max()) * 110))
        ax.set_xlim(0, top)
        ax.set_title("Tax schedule")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    if not flows.empty:
        ax = axes[i]
        from coopsim.analysis.rules import KIND_WORDS

        sources = list(dict.fromkeys(flows["source"]))
        for source, color in zip(sources, _colors(len(sources))):
            f = flows[flows["source"] == source]
            rounds = f["round"].to_numpy() + 1
            word = KIND_WORDS.get(str(source), str(source).replace("_", " "))
            if (f["collected"] > 0).any():
                ax.plot(rounds, f["collected"], marker="v", markersize=4, color=color,
                        label=f"{word}: collected")  # fmt: skip
            if (f["paid"] > 0).any():
                ax.plot(rounds, f["paid"], marker="^", markersize=4, color=color, linestyle="--",
                        label=f"{word}: paid out")  # fmt: skip
        ax.set_xlabel("round")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # rounds are whole
        ax.set_ylabel("total over agents per round (coins)")
        ax.set_title("Mechanism revenue and payouts")
        ax.set_ylim(bottom=0, top=1.1 * max(1e-9, float(flows[["collected", "paid"]].max().max())))
        if ax.get_lines():
            legend_below(fig, ax, ncol=2)  # lines span the rounds: no place inside is free
        else:  # rules that block rather than charge (a quota enforced by blocking)
            ax.text(0.5, 0.5, "no coins collected or paid out", ha="center", va="center",
                    transform=ax.transAxes)  # fmt: skip
        ax.grid(alpha=0.3)
    fig.suptitle(f"Mechanism parameters: {name}")
    return fig


def metrics_over_training(
    run: RunData, metrics: Sequence[str] | None = None, *, window: int = 1
) -> Figure:
    """Metrics logged during training (``training_log.parquet``), one panel per metric.

    ``metrics`` picks the columns; by default the registry's measures the log has (a
    contribution rate, the planner's objective) and each learning group's return
    (``<group>_return``, as the trainer names it), up to six; a log with none of them shows its
    first six numeric columns. ``window`` > 1 smooths with a rolling mean. An evaluated-only
    run gets a figure that says it has no training log.
    """
    name = run.summary.get("scenario", run.name)
    title = f"Metrics over training: {name}"
    log = training.training_log(run)
    if log is None:
        return empty_figure(
            title, "No training log: this run was evaluated, not trained (no training log)."
        )
    if metrics is None:
        measures = [m for m in MEASURES if m in log.columns]
        returns = [c for c in log.columns if c.endswith("_return")]
        metrics = (measures + returns)[:MAX_PANELS]
        if not metrics:
            curves = training.training_curves(run)
            metrics = list(dict.fromkeys(curves["metric"]))[:MAX_PANELS]
    curves = training.training_curves(run, metrics, window=window)
    names = list(dict.fromkeys(curves["metric"]))
    if not names:
        return empty_figure(title, "The training log has none of the requested metrics.")
    cols = min(2, len(names))  # two a row: three would print too small to read
    rows = int(np.ceil(len(names) / cols))
    fig = CoopsimFigure(figsize=(4.0 * cols + 0.4, 3.0 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, metric in zip(axes, names):
        c = curves[curves["metric"] == metric]
        few = len(c) <= 20  # a short log: its points, or one iteration would draw nothing
        ax.plot(c[training.ITERATION], c["value"], color="#0072B2", marker="o" if few else None,
                markersize=4)  # fmt: skip
        ax.set_title(panel_title(metric), fontsize=10)  # one line a panel: its title names it
        ax.set_xlabel("training iteration")
        whole_ticks(ax, c[training.ITERATION])  # iterations are whole
        ax.set_ylabel(axis_label(metric))
        ax.grid(alpha=0.3)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    smooth = f", rolling mean over {window}" if window > 1 else ""
    fig.suptitle(title + smooth)
    return fig


def specialisation(
    data: RunData | pd.DataFrame,
    by: str = "labour",
    labour: Mapping[str, float] | None = None,
    title: str | None = None,
) -> Figure:
    """Who does what in the gather-trade-build economy, agents ordered by build skill.

    Left: each skill rank's share of its labour (``by="labour"``) or of its acts
    (``by="actions"``) spent moving, gathering, building and trading. Right: its coin per
    episode from building houses and from selling resources. In the AI Economist the skilled
    build and the rest gather and sell; this draws whether the trained agents did.

    ``data`` is an economy run (its evaluation rollouts and world config are used) or a tidy
    rollout frame from :func:`coopsim.evaluate.evaluate` with ``labour`` weights (defaults:
    the economy's). Agents are ranked by build skill within each episode (skills are drawn
    per world) and pooled over episodes (:func:`coopsim.analysis.economy.specialisation`).
    """
    from coopsim.analysis import economy

    if by not in ("labour", "actions"):
        raise ValueError(f"by: got {by!r}, allowed: 'labour', 'actions'")
    if isinstance(data, RunData):
        episodes = data.episodes
        world = data.scenario.get("world", {})
        labour = labour or (economy.labour_weights(world) if world else None)
        title = title or f"Specialisation: {data.summary.get('scenario', data.name)}"
    else:
        episodes = data
    title = title or "Specialisation by build skill"
    try:
        table = economy.specialisation(episodes, labour)
    except ValueError as err:
        return empty_figure(title, f"No economy rollouts to draw ({err}).")
    if table.empty:
        return empty_figure(title, "No economy rollouts to draw.")
    fig = CoopsimFigure(figsize=(10.0, 4.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    x = table["skill_rank"].to_numpy()
    ticks = [f"{r}\nskill {s:.2f}" for r, s in zip(x, table["build_skill"])]
    colors = {"moving": "0.65", "gathering": "tab:green", "building": "tab:brown",
              "trading": "tab:blue"}  # fmt: skip
    prefix = "labour_share_" if by == "labour" else "action_share_"
    bottom = np.zeros(len(x))
    for name in economy.ACTIVITIES:
        share = table[prefix + name].to_numpy()
        left.bar(x, share, bottom=bottom, color=colors[name], label=name, width=0.7)
        bottom += share
    left.set_xticks(x, ticks, fontsize=8)
    left.set_xlabel("agent by build skill (rank within its episode, mean skill)")
    left.set_ylabel(f"share of {'labour' if by == 'labour' else 'acts'}")
    left.set_ylim(0, 1.22)  # room above the bars for the legend
    left.set_title(f"What each agent spends its {'labour' if by == 'labour' else 'acts'} on")
    left.legend(fontsize=8, loc="upper center", ncol=4)
    left.grid(alpha=0.3, axis="y")
    bottom = np.zeros(len(x))
    for source, color in (("building", "tab:brown"), ("selling", "tab:blue")):
        coin = table[f"income_{source}"].to_numpy()
        right.bar(x, coin, bottom=bottom, color=color, label=f"from {source}", width=0.7)
        bottom += coin
    right.set_xticks(x, ticks, fontsize=8)
    right.set_xlabel("agent by build skill (rank within its episode, mean skill)")
    right.set_ylabel("income per episode (coins)")
    right.set_title("Where its income comes from")
    right.legend(fontsize=8, loc="upper left")
    right.grid(alpha=0.3, axis="y")
    n = int(table["episodes"].max())
    fig.suptitle(f"{title} ({n} episode{'s' if n != 1 else ''})")
    return fig
