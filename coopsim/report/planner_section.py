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


#: The table's columns: what training sampled last, what the evaluation played, the yardstick.
SAMPLED = "training, last iteration: mean of its sampled choices"
EVALUATED = "evaluation: the rule it played"


def evaluated_rule(run: RunData) -> tuple[list[float] | None, str]:
    """(per control, the value the run's evaluation played; how it was chosen), as the run's
    summary recorded it (None: not recorded, a run written before it was).

    Why a column of its own: in training the planner samples its controls (it explores), so
    the last iteration's mean (2.14, say) is not a value on its grid and not the rule that was
    evaluated; the evaluation plays its most likely value (1), the pick the demo and the brief
    report. Held fixed (``planner.evaluation = 'schedule'``): that value per control. Replayed
    period by period: the mean of its most likely choices over the evaluation."""
    played = run.summary.get("planner") or {}
    if played.get("mode") == "replay" and played.get("mean_controls") is not None:
        return [float(v) for v in played["mean_controls"]], (
            "its most likely controls each period, replayed; the mean over the evaluation"
        )
    schedule = (run.summary.get("training") or {}).get("planner_schedule")
    if schedule is None:
        return None, "not recorded by this run"
    return [float(v) for v in schedule], (
        "per control its most likely value over its last training decisions, held fixed"
    )


def _end_table(run: RunData, label: str, log: PlannerLog) -> Table:
    """Per control: the mean of what the planner sampled in its last training iteration, the
    rule its evaluation played, and the yardstick's."""
    best = yardstick(run.scenario)
    last = log.controls.iloc[-1]
    played, how = evaluated_rule(run)
    if played is not None and len(played) != len(log.labels):
        played, how = None, "recorded for other controls than the log's"
    rows = []
    for k, name in enumerate(log.labels):
        row: dict = {"control": name, SAMPLED: float(last[name])}
        row[EVALUATED] = played[k] if played is not None else float("nan")
        if isinstance(best, Yardstick):
            row["yardstick"] = best.controls[k]
        rows.append(row)
    if log.objective is not None:
        row = {"control": "objective (per planner period)", SAMPLED: float(log.objective.iloc[-1]),
               EVALUATED: float("nan")}  # fmt: skip
        if isinstance(best, Yardstick):
            row["yardstick"] = best.objective
        rows.append(row)
    where = f"yardstick: {best.solver}" if isinstance(best, Yardstick) else f"no yardstick: {best}"
    held = (run.summary.get("training") or {}).get("planner_schedule")
    same = "; the value the brief says it chose" if played is not None and played == held else ""
    return Table(
        pd.DataFrame(rows),
        caption=f"Where the planner ended, {label}. Training (iteration "
        f"{int(log.iteration.iloc[-1])}): the mean of the values it sampled while exploring, "
        f"not a value it would pick. Evaluation: the rule it played ({how}){same}. "
        f"{where[0].upper()}{where[1:]}.",
    )
