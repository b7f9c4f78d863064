"""What rules did to outcomes: Lorenz curves, wealth and contributions over an episode, the
equality-productivity plane, per-agent outcomes and measures side by side."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from coopsim.analysis import tables
from coopsim.analysis.rules import SEED_UNIT
from coopsim.figures.style import (
    _MARKERS,
    HEADLINE_MEASURES,
    MAX_COLOURS,
    SIZE,
    CoopsimFigure,
    RunLike,
    _colors,
    _style,
    axis_label,
    empty_figure,
    facets,
    legend_below,
    panel_title,
    series_color,
)
from coopsim.intervals import t_interval_columns
from coopsim.record import RunData


def _panels(n: int, size: tuple[float, float]) -> tuple[Figure, list, list[list[int]]]:
    """A figure for ``n`` series: one axes where they fit the palette, else small multiples
    stacked one above the other, each a subfigure with its own axes and legend. Returns
    (figure, [(subfigure or figure, axes)], series of each panel)."""
    groups = facets(n)
    fig = CoopsimFigure(figsize=(size[0], size[1] * len(groups)), layout="constrained")
    if len(groups) == 1:
        return fig, [(fig, fig.add_subplot())], groups
    subs = fig.subfigures(len(groups), 1)
    return fig, [(sub, sub.add_subplot()) for sub in subs], groups


def over_units(per_episode: pd.DataFrame, run: RunData) -> pd.DataFrame:
    """A figure's draws: ``per_episode`` ([E, ...], indexed by episode) as it is, or, for a run
    that pools a rule's training seeds (:func:`coopsim.analysis.rules.pooled_run`), each
    seed's mean over its episodes ([seeds, ...]): a band over the seeds, as the tables'
    intervals are, not over episodes that share a seed's luck."""
    eps = run.episodes
    if SEED_UNIT not in eps or eps[SEED_UNIT].nunique() < 2:
        return per_episode
    unit = eps.groupby("episode")[SEED_UNIT].first().reindex(per_episode.index)
    return per_episode.groupby(unit.to_numpy()).mean()


def _facet_title(title: str, group: list[int], groups: list[list[int]]) -> str:
    """A panel's title: the figure's, and which series it shows where there are several."""
    if len(groups) == 1:
        return title
    return f"{title} ({group[0] + 1}-{group[-1] + 1} of {groups[-1][-1] + 1})"


def lorenz_curves(runs: RunLike) -> Figure:
    """Lorenz curves of final wealth, one per run, averaged over evaluation episodes.

    The further a curve sags below the diagonal, the more unequal the outcome; the legend gives
    each run's mean Gini coefficient.
    """
    runs = tables.as_runs(runs)
    if not runs:
        return empty_figure("Lorenz curves of final wealth", "No runs to draw.")
    curves = tables.lorenz(runs)
    labels = tables.run_labels(runs)
    fig, panels, groups = _panels(len(runs), (5.6, 5.0))
    for (_, ax), group in zip(panels, groups):
        ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1,
                label="perfect equality")  # fmt: skip
        for k in group:
            run, color = runs[k], series_color(k)
            c = curves[curves["run"] == run.name]
            gini = run.summary.get("metrics", {}).get("gini", {}).get("mean")
            text = f"{labels[k]} (Gini {gini:.3f})" if gini is not None else labels[k]
            ax.plot(c["population_share"], c["wealth_share"], marker="o", markersize=3,
                    color=color, label=text, clip_on=False)  # fmt: skip
        # a little room past 0 and 1: the curves' end points sit on the bounds
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_aspect("equal")
        ax.set_xlabel("cumulative share of agents, poorest first")
        ax.set_ylabel("cumulative share of final wealth")
        ax.set_title(_facet_title("Lorenz curves of final wealth", group, groups))
        # above the diagonal: no Lorenz curve ever goes there, so the legend covers nothing
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
    return fig


def wealth_over_time(run: RunData) -> Figure:
    """Each agent's accumulated wealth by round, mean over evaluation episodes, with a 95% band.

    Lines are labelled by agent and policy, so who gains under the rules is visible at once.
    """
    eps = run.episodes
    title = f"Wealth over the episode: {run.summary.get('scenario', run.name)}"
    if eps.empty or "net" not in eps:
        return empty_figure(title, "This run recorded no evaluation episodes.")
    wealth = eps.sort_values(["episode", "agent", "round"]).copy()
    wealth["wealth"] = wealth.groupby(["episode", "agent"], observed=True)["net"].cumsum()
    per_episode = over_units(
        wealth.pivot_table(
            index="episode", columns=["agent", "round"], values="wealth", observed=True
        ),
        run,
    )  # [E, N x R], or [seeds, N x R] where the run pools a rule's seeds
    mean, low, high = (
        pd.Series(v, index=per_episode.columns)
        for v in t_interval_columns(per_episode.to_numpy(dtype=float))
    )  # each [N x R]
    policies = (
        eps.groupby("agent", observed=True)["policy"].first().astype(str)
        if "policy" in eps
        else None
    )
    agents = list(mean.index.get_level_values("agent").unique())
    fig, panels, groups = _panels(len(agents), SIZE)
    for (sub, ax), group in zip(panels, groups):
        for i, (k, color) in enumerate(zip(group, _colors(len(group)))):
            agent = agents[k]
            rounds = mean.loc[agent].index.to_numpy() + 1
            label = f"agent {agent}" + (f" ({policies[agent]})" if policies is not None else "")
            ax.plot(rounds, mean.loc[agent], markersize=4, color=color, label=label, **_style(i))
            ax.fill_between(rounds, low.loc[agent], high.loc[agent], color=color, alpha=0.15)
        ax.set_xlabel("round")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # rounds are whole
        ax.set_ylabel("accumulated wealth (coins)")
        ax.set_title(_facet_title(title, group, groups))
        ax.grid(alpha=0.3)
        legend_below(sub, ax, ncol=4)  # lines span the axes: no place inside is free
    return fig


#: Lines closer than this share of the axis' height everywhere are drawn as coinciding.
COINCIDE_SHARE = 0.005
#: Total horizontal spread, in rounds, over which coinciding lines are drawn side by side.
DODGE_WIDTH = 0.3


def coinciding(curves: Sequence[np.ndarray], tolerance: float) -> list[list[int]]:
    """Groups of indices of ``curves`` (each [R]) that lie within ``tolerance`` of the group's
    first curve everywhere, in first-seen order; a curve alone is a group of one.

    >>> coinciding([np.array([1.0, 2.0]), np.array([5.0, 5.0]), np.array([1.0, 2.0])], 0.01)
    [[0, 2], [1]]
    """
    groups: list[list[int]] = []
    for i, curve in enumerate(curves):
        for group in groups:
            first = curves[group[0]]
            if first.shape == curve.shape and np.allclose(curve, first, rtol=0, atol=tolerance):
                group.append(i)
                break
        else:
            groups.append([i])
    return groups


def _dodges(groups: list[list[int]], count: int) -> np.ndarray:
    """Horizontal offset [count] of each line: members of a group of k coinciding lines are
    spread evenly over :data:`DODGE_WIDTH` rounds, centred on the true round."""
    offsets = np.zeros(count)
    for group in groups:
        if len(group) > 1:
            spread = np.linspace(-DODGE_WIDTH / 2, DODGE_WIDTH / 2, len(group))
            offsets[group] = spread
    return offsets


def coinciding_note(groups: list[list[int]], labels: Sequence[str]) -> str | None:
    """The caption naming runs whose lines coincide (None when none do)."""
    same = [" = ".join(labels[i] for i in group) for group in groups if len(group) > 1]
    if not same:
        return None
    return "identical lines, drawn side by side: " + "; ".join(same)


def contributions_per_round(runs: RunLike) -> Figure:
    """Mean contribution to the public good by round, one line per run, with a 95% band.

    The band is over evaluation episodes (each episode's mean over agents is one draw). The
    classic public-goods decay, and how a mechanism stops it, shows up here. Runs whose lines
    coincide (mechanisms that change nothing, deterministic agents) would hide one another: they
    are shifted a little apart along the rounds and the legend's title names them.
    """
    given = tables.as_runs(runs)
    slots = [k for k, r in enumerate(given) if "contribution" in r.episodes]  # colours: given's
    runs = [given[k] for k in slots]
    title = "Contributions per round"
    if not runs:
        return empty_figure(title, "No run recorded contributions.")
    labels = tables.run_labels(runs)
    curves = []
    endowment = runs[0].scenario.get("world", {}).get("endowment")
    for run in runs:
        per_ep = run.episodes.groupby(["round", "episode"])["contribution"].mean()
        by_round = over_units(per_ep.unstack("round"), run)  # [E, R], or [seeds, R] pooled
        top = run.scenario.get("world", {}).get("endowment")  # nobody gives more than it
        mean, low, high = t_interval_columns(
            by_round.to_numpy(dtype=float), bounds=(0.0, float(top) if top else None)
        )  # each [R]
        curves.append((by_round.columns.to_numpy() + 1, mean, low, high))
    height = endowment or max(float(np.nanmax(np.abs(c[1]))) for c in curves) or 1.0
    fig, panels, facet_groups = _panels(len(runs), SIZE)
    for (sub, ax), facet in zip(panels, facet_groups):
        shown = [curves[k] for k in facet]
        names = [labels[k] for k in facet]
        groups = coinciding([c[1] for c in shown], COINCIDE_SHARE * height)
        offsets = _dodges(groups, len(shown))  # [runs]
        for i, ((rounds, mean, low, high), label) in enumerate(zip(shown, names)):
            x, slot = rounds + offsets[i], slots[facet[i]]
            color = series_color(slot)
            ax.plot(x, mean, markersize=4, color=color, label=label, **_style(slot))
            ax.fill_between(x, low, high, color=color, alpha=0.15)
        if endowment is not None:
            ax.axhline(endowment, color="0.5", linestyle=":", linewidth=1, label="endowment")
        ax.set_xlabel("round")
        ax.set_ylabel("mean contribution per agent (coins)")
        ax.set_title(_facet_title(title, facet, facet_groups))
        ax.set_ylim(bottom=0, top=1.05 * height)  # the endowment, and points on it, in view
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # rounds are whole
        ax.grid(alpha=0.3)
        legend_below(sub, ax, ncol=min(3, len(shown) + 1), title=coinciding_note(groups, names))
    return fig


#: The least span of an axis of the equality-productivity plane, as a share of its largest
#: value: runs that differ by float noise are drawn as one point, not zoomed apart.
MIN_RELATIVE_SPAN = 0.05
#: The least span of the equality axis (an index from 0 to 1).
MIN_EQUALITY_SPAN = 0.05


def _sensible_limits(
    lows: np.ndarray, highs: np.ndarray, least: float, bounds: tuple[float, float] | None = None
) -> tuple[float, float]:
    """Axis limits around intervals [k], at least ``least`` (and a share of the values) wide.

    Matplotlib fits the axis to the data, so points 1e-8 apart fill the plot and the ticks
    read ``1e-8+9.3392e-1``: identical runs look far apart. A floor on the span keeps the
    scale a reader would choose; ``bounds`` keeps an index inside its range.
    """
    lo, hi = float(np.nanmin(lows)), float(np.nanmax(highs))
    scale = max(abs(lo), abs(hi))
    span = max(hi - lo, least, MIN_RELATIVE_SPAN * scale, 1e-9)
    centre = (lo + hi) / 2
    low, high = centre - 0.6 * span, centre + 0.6 * span
    if bounds is not None:
        if low < bounds[0]:
            low, high = bounds[0], min(bounds[1], high + bounds[0] - low)
        if high > bounds[1]:
            low, high = max(bounds[0], low - (high - bounds[1])), bounds[1]
        # a little room past a bound the values reach, so a point on it is not cut in half
        pad = 0.04 * (high - low)
        low = low - pad if lo <= bounds[0] + pad else low
        high = high + pad if hi >= bounds[1] - pad else high
    return low, high


def equality_vs_productivity(runs: RunLike) -> Figure:
    """One point per run: equality (1 - Gini) against productivity, with 95% CI error bars.

    The AI Economist's trade-off plane: up and to the right is better, and the product of
    the two coordinates is its social-welfare objective. Axes are never narrower than a
    reader's scale (:func:`_sensible_limits`) and print plain numbers, never an offset.
    """
    given = tables.as_runs(runs)
    runs = [r for r in given if {"equality", "productivity"} <= set(r.summary.get("metrics", {}))]
    title = "Equality vs productivity"
    broken = tables.unmeasured(runs)  # an old run's NaN or inf: no point, and a note says so
    notes = tables.unmeasured_notes(runs)
    runs = [r for r in runs if r.name not in broken and _finite_point(r)]
    slots = [next(j for j, g in enumerate(given) if g is r) for r in runs]  # colours: given's
    if not runs:
        why = " ".join(notes) if notes else "No run has equality and productivity in its summary."
        return empty_figure(title, why)
    xs = np.array([[r.summary["metrics"]["productivity"][k] for k in ("ci_low", "ci_high")]
                   for r in runs], dtype=float)  # [R, 2]  # fmt: skip
    ys = np.array([[r.summary["metrics"]["equality"][k] for k in ("ci_low", "ci_high")]
                   for r in runs], dtype=float)  # [R, 2]  # fmt: skip
    labels = tables.run_labels(runs)
    fig, panels, groups = _panels(len(runs), SIZE)
    for (sub, ax), group in zip(panels, groups):
        for i, k in enumerate(group):
            m, color = runs[k].summary["metrics"], series_color(slots[k])
            x, y = m["productivity"], m["equality"]
            ax.errorbar(
                x["mean"],
                y["mean"],
                xerr=[[max(0.0, x["mean"] - x["ci_low"])], [max(0.0, x["ci_high"] - x["mean"])]],
                yerr=[[max(0.0, y["mean"] - y["ci_low"])], [max(0.0, y["ci_high"] - y["mean"])]],
                fmt=_MARKERS[slots[k] % len(_MARKERS)],
                markersize=9 - 1.5 * (i % 4),  # points drawn on one another stay visible
                capsize=4,
                color=color,
                label=labels[k],
            )
        # every panel on the same scale, so facets compare
        ax.set_xlim(*_sensible_limits(xs[:, 0], xs[:, 1], 0.0))
        ax.set_ylim(*_sensible_limits(ys[:, 0], ys[:, 1], MIN_EQUALITY_SPAN, bounds=(0.0, 1.0)))
        ax.ticklabel_format(axis="both", style="plain", useOffset=False)
        ax.set_xlabel(axis_label("productivity"))
        ax.set_ylabel(axis_label("equality"))
        ax.set_title(_facet_title(title + " (mean and 95% interval)", group, groups))
        ax.grid(alpha=0.3)
        legend_below(sub, ax, ncol=min(3, len(group)))
    _caption(fig, notes)
    return fig


def _finite_point(run: RunData) -> bool:
    """Whether a run's equality and productivity, with their intervals, are all finite."""
    m = run.summary["metrics"]
    values = [
        m[k][part] for k in ("equality", "productivity") for part in ("mean", "ci_low", "ci_high")
    ]
    return bool(np.isfinite(np.asarray(values, dtype=float)).all())


def _caption(fig: Figure, notes: list[str]) -> None:
    """Say under a figure which runs it leaves without a value, and why (a figure-level
    label, so the constrained layout makes room for it)."""
    if notes:
        fig.supxlabel(_wrapped(notes), fontsize=7, color="0.3")


def _wrapped(notes: list[str], width: int = 110) -> str:
    return "\n".join(textwrap.fill(n, width) for n in notes)


def agent_outcomes(runs: RunLike) -> Figure:
    """Final wealth of each agent (mean and 95% CI over episodes), grouped by run.

    Bars are labelled by agent and coloured by run, so the same agent can be followed across
    mechanisms.
    """
    runs = tables.as_runs(runs)
    title = "Final wealth per agent"
    if not runs:
        return empty_figure(title, "No runs to draw.")
    table = tables.agent_outcomes(runs)
    labels = tables.run_labels(runs)
    # the page's width: a wider figure is scaled down on the page until nothing can be read
    fig, panels, groups = _panels(len(runs), (7.0, 4.6))
    for (sub, ax), group in zip(panels, groups):
        width = 0.8 / len(group)
        for i, k in enumerate(group):
            t, color = table[table["run"] == runs[k].name], series_color(k)
            x = t["agent"].to_numpy() + (i - (len(group) - 1) / 2) * width
            err = [t["wealth"] - t["wealth_ci_low"], t["wealth_ci_high"] - t["wealth"]]
            ax.bar(x, t["wealth"], width=width, yerr=err, capsize=2, color=color,
                   label=labels[k])  # fmt: skip
        first = table[table["run"] == runs[group[0]].name]
        policies = {
            tuple(table[table["run"] == r.name].get("policy", pd.Series(dtype=str))) for r in runs
        }
        same = len(policies) == 1 and "policy" in first
        ticks = [
            f"{a}\n{p}" if same else str(a)
            for a, p in zip(first["agent"], first.get("policy", first["agent"]))
        ]
        ax.set_xticks(first["agent"].to_numpy(), ticks, fontsize=8)
        ax.set_xlabel("agent, and the policy in its seat" if same else "agent (seat)")
        ax.set_ylabel("final wealth (coins)")
        ax.set_title(_facet_title(title + " (mean and 95% interval)", group, groups))
        ax.axhline(0, color="0.3", linewidth=0.8)
        ax.grid(alpha=0.3, axis="y")
        # Below the axes: bars fill every corner, so any place inside covers some of them.
        legend_below(sub, ax, ncol=min(3, len(group)))
    return fig


def compare_metrics(runs: RunLike, metrics: Sequence[str] | None = None) -> Figure:
    """Bar chart comparing runs on several metrics (mean and 95% CI over episodes), one panel
    each; by default the :data:`HEADLINE_MEASURES` the runs have."""
    runs = tables.as_runs(runs)
    title = "Comparison across runs"
    if not runs:
        return empty_figure(title, "No runs to compare.")
    metrics = list(metrics or HEADLINE_MEASURES)
    table = tables.summary(runs, metrics)
    names = [m for m in metrics if m in set(table["metric"])]
    if not names:
        return empty_figure(title, "The runs share none of the requested metrics.")
    labels = tables.run_labels(runs)
    cols = min(3, len(names))
    rows = int(np.ceil(len(names) / cols))
    fig = CoopsimFigure(figsize=(4.2 * cols, 3.0 * rows + 0.8), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    # bars are numbered on their axis; past the palette one colour, the numbers tell them apart
    colors = _colors(len(runs)) if len(runs) <= MAX_COLOURS else ["#0072B2"] * len(runs)
    for ax, metric in zip(axes, names):
        t = table[table["metric"] == metric].set_index("run").reindex([r.name for r in runs])
        x = np.arange(len(runs))
        err = [t["mean"] - t["ci_low"], t["ci_high"] - t["mean"]]
        ax.bar(x, t["mean"], yerr=err, capsize=3, color=colors)
        ax.set_xticks(x, [str(i + 1) for i in x])
        ax.set_xlabel("run (see legend)")
        ax.set_ylabel(axis_label(metric))
        ax.set_title(panel_title(metric), fontsize=10)
        ax.grid(alpha=0.3, axis="y")
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    from matplotlib.patches import Patch

    handles = [
        Patch(color=c, label=f"{i + 1}: {lab}") for i, (c, lab) in enumerate(zip(colors, labels))
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(3, len(runs)), fontsize=8)
    notes = tables.unmeasured_notes(runs)  # their bars are missing; the title says why
    heading = title + " (mean and 95% Student-t CI over episodes)"
    fig.suptitle("\n".join([heading, _wrapped(notes, 40 * cols)]) if notes else heading,
                 fontsize=9 if notes else None)  # fmt: skip
    return fig
