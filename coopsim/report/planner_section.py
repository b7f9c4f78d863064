"""The report's section on learning planners: what each chose over training, beside the
yardstick, and where it ended. Present only when a run had a planner."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from coopsim.analysis.planner_log import PlannerLog, planner_log
from coopsim.analysis.yardstick import Yardstick, yardstick
from coopsim.figures.planner import planner_choices
from coopsim.record import RunData
from coopsim.report.model import FigureBlock, Paragraph, Section, Table


def planner_sections(runs: Sequence[RunData], labels: Sequence[str]) -> list[Section]:
    """The section, with a figure and a table per planner run; none when no run had one."""
    blocks: list = []
    for run, label in zip(runs, labels):
        log = planner_log(run)
        if log is None:
            continue
        blocks.append(
            FigureBlock(
                f"fig-planner-{run.name}",
                planner_choices(run),
                f"What the planner chose over training, {label}: its mean choice per training "
                "iteration for each control, dashed the best static rule on its grid with "
                "agents at equilibrium where one is computed, and the objective it was paid.",
            )
        )
        blocks.append(_end_table(run, label, log))
    if not blocks:
        return []
    intro = Paragraph(
        "A learning planner set these rules during training, every planner period, to "
        "maximise the scenario's objective. The yardstick is the best rule held still on the "
        "same grid, with agents at the stage game's equilibrium: the rule a designer who could "
        "solve the game would pick."
    )
    return [Section("planner", "What the planner chose", [intro, *blocks])]


def _end_table(run: RunData, label: str, log: PlannerLog) -> Table:
    """Per control: the last iteration's choice and the yardstick's."""
    best = yardstick(run.scenario)
    last = log.controls.iloc[-1]
    rows = []
    for k, name in enumerate(log.labels):
        row = {"control": name, "planner, last iteration": float(last[name])}
        if isinstance(best, Yardstick):
            row["yardstick"] = best.controls[k]
        rows.append(row)
    if log.objective is not None:
        row = {"control": "objective (per planner period)",
               "planner, last iteration": float(log.objective.iloc[-1])}  # fmt: skip
        if isinstance(best, Yardstick):
            row["yardstick"] = best.objective
        rows.append(row)
    where = f"yardstick: {best.solver}" if isinstance(best, Yardstick) else f"no yardstick: {best}"
    return Table(
        pd.DataFrame(rows),
        caption=f"The planner's last choices, {label} (iteration "
        f"{int(log.iteration.iloc[-1])}; {where}).",
    )
