"""What a learning planner chose over training, read from its run's training log.

The trainer logs the planner's mean chosen controls per iteration as ``rate_<k>``, k over the
controls flattened in ``planner.controls`` order (a tax's rates: one per bracket), and the
objective it was paid as ``objective``. Here each column gets the control's name, a tax's
brackets their income ranges, so a figure can say what each line is.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from coopsim import scenario as sc
from coopsim.analysis.training import ITERATION, training_log
from coopsim.record import RunData
from coopsim.schema import ConfigError


@dataclass
class PlannerLog:
    """A planner's choices over training, one row per iteration it acted in."""

    labels: list[str]  # [K] what each control column is, e.g. 'matching.rate'
    controls: pd.DataFrame  # [T, K] value chosen (mean over its decisions), columns = labels
    objective: pd.Series | None  # [T] the objective it was paid, where logged
    iteration: pd.Series  # [T] training iteration
    agent_steps: pd.Series | None  # [T] agent-steps trained when the iteration ended


def control_labels(scenario: dict, width: int) -> list[str]:
    """A name per logged control column: the control, and a tax bracket's income range.

    A scenario that no longer loads (written by an older version) gets ``rate_<k>``.
    """
    try:
        loaded = sc.from_dict(scenario)
        targets = sc.resolve_controls(loaded.planner, loaded.mechanisms)
    except ConfigError:
        return [f"rate_{k}" for k in range(width)]
    labels = []
    for target in targets:
        if target.width == 1:
            labels.append(target.name)
            continue
        ranges = _bracket_ranges(loaded.mechanisms[target.index], target.width)
        labels += [f"{target.name}[{k}] {ranges[k]}" for k in range(target.width)]
    if len(labels) != width:
        return [f"rate_{k}" for k in range(width)]
    return labels


def _bracket_ranges(mechanism: sc.MechanismConfig, width: int) -> list[str]:
    """'(income 9.53-38.7)' per bracket of a tax (cutoffs times its scale), else ''."""
    if mechanism.kind != "tax" or len(mechanism.params.brackets) != width:
        return [""] * width
    cuts = [b * mechanism.params.scale for b in mechanism.params.brackets]
    tops = [f"-{c:.3g}" for c in cuts[1:]] + ["+"]
    return [f"(income {lo:.3g}{hi})" for lo, hi in zip(cuts, tops)]


def planner_log(run: RunData) -> PlannerLog | None:
    """The planner's choices over training, or None for a run without a planner's log."""
    if "planner" not in run.scenario:
        return None
    log = training_log(run)
    if log is None:
        return None
    columns = sorted(
        (c for c in log.columns if c.startswith("rate_") and c[5:].isdigit()),
        key=lambda c: int(c[5:]),
    )
    if not columns:
        return None
    acted = log[log[columns].notna().any(axis=1)]  # phase 1: agents alone, nothing chosen
    labels = control_labels(run.scenario, len(columns))
    controls = acted[columns].astype(float).set_axis(labels, axis=1).reset_index(drop=True)
    return PlannerLog(
        labels=labels,
        controls=controls,
        objective=acted["objective"].reset_index(drop=True) if "objective" in acted else None,
        iteration=acted[ITERATION].reset_index(drop=True),
        agent_steps=acted["agent_steps"].reset_index(drop=True) if "agent_steps" in acted else None,
    )
