"""Matplotlib figures of loaded runs, shared by reports, notebooks and the app.

Every function takes runs loaded with :func:`coopsim.record.load_run` / ``load_runs`` (one run
or a list, as its name says) and returns a :class:`matplotlib.figure.Figure` with a title, axis
labels with units, and a legend. Figures are built without ``pyplot``, so they hold no global
state: show one in a notebook by leaving it as a cell's last expression, in Streamlit with
``st.pyplot(fig)``, or save it with ``fig.savefig(path)``. Where a run lacks the data a figure
needs (an evaluated run has no training log), the figure says so in words instead of failing.

Money is in coins, the worlds' currency (the public-goods endowment is 20 coins a round).
Measures are labelled with the registry's label and unit (:data:`coopsim.measures.MEASURES`),
and intervals are the house's (:mod:`coopsim.intervals`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from coopsim.analysis import tables, training
from coopsim.intervals import t_interval_columns
from coopsim.measures import MEASURES
from coopsim.record import RunData

RunLike = RunData | Sequence[RunData]


class CoopsimFigure(Figure):
    """A matplotlib Figure that shows itself as a PNG when it is a notebook cell's value.

    Figures built without pyplot are not registered with IPython's inline backend, so this
    subclass supplies ``_repr_png_`` itself; everything else is plain matplotlib.
    """

    def _repr_png_(self) -> bytes:
        import io

        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100)
        return buf.getvalue()


#: Default size of a one-panel figure, inches.
SIZE = (7.0, 4.2)

#: The measures :func:`compare_metrics` draws by default (those the runs have), in this order.
HEADLINE_MEASURES = (
    "equality_times_productivity",
    "productivity",
    "equality",
    "contribution_rate",
    "efficiency",
    "rawls_welfare",
)

#: Most panels a figure of several metrics draws by default.
MAX_PANELS = 6


def axis_label(column: str) -> str:
    """A measure's label and unit from the registry (``Gini: index (0-1)``); any other
    column's name in words."""
    measure = MEASURES.get(column)
    if measure is None:
        return column.replace("_", " ")
    return f"{measure.label}: {measure.unit}"


def panel_title(column: str) -> str:
    """A measure's label, saying so where lower is better (inequality indices); any other
    column's name in words."""
    measure = MEASURES.get(column)
    if measure is None:
        return column.replace("_", " ")
    return measure.label + ("" if measure.higher_is_better else " (lower is better)")


def _colors(n: int) -> list:
    """``n`` distinct colours, the same run always getting the same colour within a figure."""
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    return [colormaps["viridis"](x) for x in np.linspace(0, 0.95, n)]


#: Line styles and markers cycled over a figure's series (with the colours).
_DASHES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P")


def _style(i: int) -> dict:
    """Line style and marker of series ``i``.

    Series with identical data (agents that play alike, mechanisms that change nothing) are
    drawn over one another; with colour alone only the last one drawn shows and the legend
    names lines the reader cannot find. Dashes and markers keep each one visible.
    """
    return {"linestyle": _DASHES[i % len(_DASHES)], "marker": _MARKERS[i % len(_MARKERS)]}


class EmptyFigure(CoopsimFigure):
    """A placeholder: a figure that has no data, only a sentence saying why.

    Notebooks and the app show it so a missing figure is explained; a report leaves it out
    (a page of "no data" says nothing a reader needs), which this type lets it tell.
    """


def empty_figure(title: str, message: str, size: tuple[float, float] = (7.0, 2.0)) -> Figure:
    """A figure that says in words why there is nothing to draw (keeps report layouts intact)."""
    fig = EmptyFigure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=11, color="0.3",
            transform=ax.transAxes)  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("0.8")
    return fig


def lorenz_curves(runs: RunLike) -> Figure:
    """Lorenz curves of final wealth, one per run, averaged over evaluation episodes.

    The further a curve sags below the diagonal, the more unequal the outcome; the legend gives
    each run's mean Gini coefficient.
    """
    runs = tables.as_runs(runs)
    if not runs:
        return empty_figure("Lorenz curves of final wealth", "No runs to draw.")
    curves = tables.lorenz(runs)
    fig = CoopsimFigure(figsize=(5.6, 5.0), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label="perfect equality")
    for run, label, color in zip(runs, tables.run_labels(runs), _colors(len(runs))):
        c = curves[curves["run"] == run.name]
        gini = run.summary.get("metrics", {}).get("gini", {}).get("mean")
        text = f"{label} (Gini {gini:.3f})" if gini is not None else label
        ax.plot(c["population_share"], c["wealth_share"], marker="o", markersize=3, color=color,
                label=text)  # fmt: skip
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("cumulative share of agents, poorest first")
    ax.set_ylabel("cumulative share of final wealth")
    ax.set_title("Lorenz curves of final wealth")
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
    per_episode = wealth.pivot_table(
        index="episode", columns=["agent", "round"], values="wealth", observed=True
    )  # [E, N x R]
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
    fig = CoopsimFigure(figsize=SIZE, layout="constrained")
    ax = fig.add_subplot()
    for i, (agent, color) in enumerate(zip(agents, _colors(len(agents)))):
        rounds = mean.loc[agent].index.to_numpy() + 1
        label = f"agent {agent}" + (f" ({policies[agent]})" if policies is not None else "")
        ax.plot(rounds, mean.loc[agent], markersize=4, color=color, label=label, **_style(i))
        ax.fill_between(rounds, low.loc[agent], high.loc[agent], color=color, alpha=0.15)
    ax.set_xlabel("round")
    ax.set_ylabel("accumulated wealth (coins)")
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=2 if len(agents) > 6 else 1)
    ax.grid(alpha=0.3)
    return fig


def contributions_per_round(runs: RunLike) -> Figure:
    """Mean contribution to the public good by round, one line per run, with a 95% band.

    The band is over evaluation episodes (each episode's mean over agents is one draw). The
    classic public-goods decay, and how a mechanism stops it, shows up here.
    """
    runs = [r for r in tables.as_runs(runs) if "contribution" in r.episodes]
    title = "Contributions per round"
    if not runs:
        return empty_figure(title, "No run recorded contributions.")
    fig = CoopsimFigure(figsize=SIZE, layout="constrained")
    ax = fig.add_subplot()
    for i, (run, label, color) in enumerate(zip(runs, tables.run_labels(runs), _colors(len(runs)))):
        per_ep = run.episodes.groupby(["round", "episode"])["contribution"].mean()
        by_round = per_ep.unstack("round")  # [E, R]
        mean, low, high = t_interval_columns(by_round.to_numpy(dtype=float))  # each [R]
        rounds = by_round.columns.to_numpy() + 1
        ax.plot(rounds, mean, markersize=4, color=color, label=label, **_style(i))
        ax.fill_between(rounds, low, high, color=color, alpha=0.15)
    endowment = runs[0].scenario.get("world", {}).get("endowment")
    if endowment is not None:
        ax.axhline(endowment, color="0.5", linestyle=":", linewidth=1, label="endowment")
    ax.set_xlabel("round")
    ax.set_ylabel("mean contribution per agent (coins)")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    # Below the axes: inside, "best" still lands on a line when runs span the whole height.
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", fontsize=8,
               ncol=min(3, len(runs) + 1))  # fmt: skip
    ax.grid(alpha=0.3)
    return fig


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
                           color="C0", linewidth=2, label="configured")  # fmt: skip
        if not learned.empty and learned["cutoff"].notna().all():
            last = learned[learned["iteration"] == learned["iteration"].max()]
            first = learned[learned["iteration"] == learned["iteration"].min()]
            _step_schedule(ax, first["cutoff"].to_numpy(), first["rate"].to_numpy(), top,
                           color="C1", linestyle=":", label=f"learned, iteration "
                           f"{first['iteration'].iloc[0]:g}")  # fmt: skip
            _step_schedule(ax, last["cutoff"].to_numpy(), last["rate"].to_numpy(), top,
                           color="C3", linewidth=2, label=f"learned, iteration "
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
        sources = list(dict.fromkeys(flows["source"]))
        for source, color in zip(sources, _colors(len(sources))):
            f = flows[flows["source"] == source]
            rounds = f["round"].to_numpy() + 1
            if (f["collected"] > 0).any():
                ax.plot(rounds, f["collected"], marker="v", markersize=4, color=color,
                        label=f"{source}: collected")  # fmt: skip
            if (f["paid"] > 0).any():
                ax.plot(rounds, f["paid"], marker="^", markersize=4, color=color, linestyle="--",
                        label=f"{source}: paid out")  # fmt: skip
        ax.set_xlabel("round")
        ax.set_ylabel("total over agents per round (coins)")
        ax.set_title("Mechanism revenue and payouts")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(f"Mechanism parameters: {name}")
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
    return low, high


def equality_vs_productivity(runs: RunLike) -> Figure:
    """One point per run: equality (1 - Gini) against productivity, with 95% CI error bars.

    The AI Economist's trade-off plane: up and to the right is better, and the product of
    the two coordinates is its social-welfare objective. Axes are never narrower than a
    reader's scale (:func:`_sensible_limits`) and print plain numbers, never an offset.
    """
    runs = [
        r
        for r in tables.as_runs(runs)
        if {"equality", "productivity"} <= set(r.summary.get("metrics", {}))
    ]
    title = "Equality vs productivity"
    if not runs:
        return empty_figure(title, "No run has equality and productivity in its summary.")
    fig = CoopsimFigure(figsize=SIZE, layout="constrained")
    ax = fig.add_subplot()
    xs = np.array([[r.summary["metrics"]["productivity"][k] for k in ("ci_low", "ci_high")]
                   for r in runs], dtype=float)  # [R, 2]  # fmt: skip
    ys = np.array([[r.summary["metrics"]["equality"][k] for k in ("ci_low", "ci_high")]
                   for r in runs], dtype=float)  # [R, 2]  # fmt: skip
    for i, (run, label, color) in enumerate(zip(runs, tables.run_labels(runs), _colors(len(runs)))):
        m = run.summary["metrics"]
        x, y = m["productivity"], m["equality"]
        ax.errorbar(
            x["mean"],
            y["mean"],
            xerr=[[max(0.0, x["mean"] - x["ci_low"])], [max(0.0, x["ci_high"] - x["mean"])]],
            yerr=[[max(0.0, y["mean"] - y["ci_low"])], [max(0.0, y["ci_high"] - y["mean"])]],
            fmt=_MARKERS[i % len(_MARKERS)],
            markersize=9 - 1.5 * (i % 4),  # points drawn on one another stay visible
            capsize=4,
            color=color,
            label=label,
        )
    ax.set_xlim(*_sensible_limits(xs[:, 0], xs[:, 1], 0.0))
    ax.set_ylim(*_sensible_limits(ys[:, 0], ys[:, 1], MIN_EQUALITY_SPAN, bounds=(0.0, 1.0)))
    ax.ticklabel_format(axis="both", style="plain", useOffset=False)
    ax.set_xlabel(axis_label("productivity"))
    ax.set_ylabel(axis_label("equality"))
    ax.set_title(title + " (mean and 95% CI over episodes)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def metrics_over_training(
    run: RunData, metrics: Sequence[str] | None = None, *, window: int = 1
) -> Figure:
    """Metrics logged during training (``metrics.parquet``), one panel per metric.

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
            title, "No training log: this run was evaluated, not trained (no metrics.parquet)."
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
    cols = min(3, len(names))
    rows = int(np.ceil(len(names) / cols))
    fig = CoopsimFigure(figsize=(4.0 * cols + 0.4, 3.0 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, metric in zip(axes, names):
        c = curves[curves["metric"] == metric]
        ax.plot(c[training.ITERATION], c["value"], color="C0", label=metric)
        ax.set_title(panel_title(metric), fontsize=10)
        ax.set_xlabel("training iteration")
        ax.set_ylabel(axis_label(metric))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    smooth = f", rolling mean over {window}" if window > 1 else ""
    fig.suptitle(title + smooth)
    return fig


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
    n_agents = int(table.groupby("run")["agent"].nunique().max())
    width = 0.8 / len(runs)
    fig = CoopsimFigure(figsize=(max(6.0, 1.0 + 0.9 * n_agents * max(1, len(runs) / 2)), 4.2),
                 layout="constrained")  # fmt: skip
    ax = fig.add_subplot()
    for i, (run, label, color) in enumerate(zip(runs, labels, _colors(len(runs)))):
        t = table[table["run"] == run.name]
        x = t["agent"].to_numpy() + (i - (len(runs) - 1) / 2) * width
        err = [t["wealth"] - t["wealth_ci_low"], t["wealth_ci_high"] - t["wealth"]]
        ax.bar(x, t["wealth"], width=width, yerr=err, capsize=2, color=color, label=label)
    first = table[table["run"] == runs[0].name]
    ticks = [
        f"{a}\n{p}" if "policy" in first else str(a)
        for a, p in zip(first["agent"], first.get("policy", first["agent"]))
    ]
    ax.set_xticks(first["agent"].to_numpy(), ticks, fontsize=7)
    ax.set_xlabel("agent (policy in the first run)")
    ax.set_ylabel("final wealth (coins)")
    ax.set_title(title + " (mean and 95% CI over episodes)")
    ax.axhline(0, color="0.3", linewidth=0.8)
    # Below the axes: bars fill every corner, so any place inside covers some of them.
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", fontsize=8,
               ncol=min(4, len(runs)))  # fmt: skip
    ax.grid(alpha=0.3, axis="y")
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
    colors = _colors(len(runs))
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
    fig.suptitle(title + " (mean and 95% Student-t CI over episodes)")
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
