"""What a learning planner chose over training, beside its yardstick.

Left: one line per control (``matching.rate``; a tax's rates one per bracket, labelled with
the bracket's income range), the planner's mean choice per training iteration, and dashed in
the same colour the best static rule on its grid with agents at equilibrium, where a yardstick
applies (:mod:`coopsim.analysis.yardstick`). Right: the objective the planner was paid over
training, with the yardstick's beside it where the two are on one scale.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from coopsim.analysis.planner_log import PlannerLog, planner_log
from coopsim.analysis.yardstick import Yardstick, yardstick
from coopsim.figures.style import CoopsimFigure, _colors, empty_figure, panel_title, whole_ticks
from coopsim.record import RunData

#: Objectives that are shares, the same per round as per episode when the rule holds still.
SHARE_OBJECTIVES = ("votes", "contribution_rate")


def planner_choices(run: RunData, *, with_yardstick: bool = True) -> Figure:
    """The planner's controls and objective over training, and the yardstick's (dashed)."""
    name = run.summary.get("scenario", run.name)
    title = f"What the planner chose over training: {name}"
    log = planner_log(run)
    if log is None:
        return empty_figure(
            title, "No planner's choices to draw: this run had no planner, or did not train."
        )
    best = yardstick(run.scenario) if with_yardstick else "not computed"
    rows = -(-len(log.labels) // 2) if len(log.labels) > 2 else len(log.labels)  # legend rows
    # a page's width: wider, a printed page scales its words down past reading
    fig = CoopsimFigure(figsize=(8.0, 4.4 + 0.16 * rows), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=(3, 2))
    _controls_panel(left, log, best)
    _objective_panel(right, log, best, run.scenario)
    fig.suptitle(title)
    if isinstance(best, Yardstick):
        note = (
            f"Dashed: the best static rule on the planner's grid with agents at equilibrium "
            f"({best.solver})."
        )
    else:
        note = f"No yardstick: {best}."
    fig.supxlabel(note, fontsize=8, color="0.3")
    return fig


def _controls_panel(ax, log: PlannerLog, best: Yardstick | str) -> None:
    x = log.iteration.to_numpy()
    for k, (label, color) in enumerate(zip(log.labels, _colors(len(log.labels)))):
        dashed = isinstance(best, Yardstick) and k < len(best.controls)
        shown = f"{label}; yardstick {best.controls[k]:.3g}" if dashed else label
        ax.plot(x, log.controls[label].to_numpy(), color=color, label=shown, linewidth=1.6,
                marker="o" if len(x) <= 20 else None, markersize=4)  # fmt: skip
        if dashed:
            ax.axhline(best.controls[k], color=color, linestyle="--", linewidth=1.2)
    ax.set_xlabel("training iteration")
    whole_ticks(ax, x)  # iterations are whole
    ax.set_ylabel("value chosen (the control's own units)")
    ax.set_title("Controls: mean chosen per iteration", fontsize=10)
    ax.grid(alpha=0.3)
    # Below the panel: a tax's seven brackets would cover the lines inside it.
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16),
              ncol=2 if len(log.labels) > 2 else 1)  # fmt: skip


def _objective_panel(ax, log: PlannerLog, best: Yardstick | str, scenario: dict) -> None:
    planner = scenario.get("planner", {})
    objective = planner.get("objective", "objective")
    ax.set_title(f"Objective: {panel_title(objective)}", fontsize=10)
    ax.set_xlabel("training iteration")
    whole_ticks(ax, log.iteration.to_numpy())  # iterations are whole
    ax.set_ylabel(f"{objective.replace('_', ' ')} per planner period")
    ax.grid(alpha=0.3)
    if log.objective is None:
        ax.text(0.5, 0.5, "not logged", ha="center", va="center", transform=ax.transAxes)
        return
    ax.plot(log.iteration.to_numpy(), log.objective.to_numpy(), color="#0072B2",
            marker="o" if len(log.iteration) <= 20 else None, markersize=4,
            label="planner (mean over its decisions)")  # fmt: skip
    if isinstance(best, Yardstick):
        if _same_scale(scenario, objective):
            ax.axhline(best.objective, color="C3", linestyle="--",
                       label=f"yardstick {best.objective:.4g}")  # fmt: skip
        else:
            ax.text(0.02, 0.02, f"yardstick over an episode: {best.objective:.4g}\n(the "
                    "planner's is per period, a different scale)", fontsize=7,
                    transform=ax.transAxes, color="C3")  # fmt: skip
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16))


def _same_scale(scenario: dict, objective: str) -> bool:
    """Whether the objective per planner period is on the yardstick's per-episode scale: the
    period is the whole episode, or the objective is a share, which a rule held still gives
    alike in every round."""
    if objective in SHARE_OBJECTIVES:
        return True
    world = scenario.get("world", {})
    steps = world.get("rounds", 1) if world.get("kind") == "public_goods" else 1
    return scenario.get("planner", {}).get("period", 1) == steps
