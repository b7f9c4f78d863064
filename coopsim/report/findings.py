"""How a report names a rule's objective and prints an estimate in words.

The findings themselves are data (:mod:`coopsim.report.brief_findings`); these helpers serve the
comparison table and the method, which name each rule's objective.
"""

from __future__ import annotations

from coopsim.intervals import Interval
from coopsim.measures import MEASURES, Measure
from coopsim.report import numbers
from coopsim.report.conditions import Condition

#: What the objective is called when a run does not record which one it is.
DEFAULT_OBJECTIVE = "equality_times_productivity"


def formatted(interval: Interval, measure: Measure | None = None) -> str:
    """An estimate in a sentence: shares as percentages, everything else as numbers.

    An interval of zero width prints as its mean alone (the summary says why it has none).
    """
    share = measure is not None and measure.unit.startswith("share")
    if not interval.ci_high > interval.ci_low:
        places = numbers.decimals(100 * interval.mean if share else interval.mean)
        value = numbers.number(100 * interval.mean if share else interval.mean, places)
        return f"{value}%" if share else value
    if share:
        return numbers.percent(interval.mean, interval.ci_low, interval.ci_high)
    return numbers.estimate(interval.mean, interval.ci_low, interval.ci_high)


def objective_name(condition: Condition) -> str:
    """The registered name of the social objective the runs' ``objective`` measure is."""
    scenario = condition.runs[0].scenario
    planner = scenario.get("planner") or {}
    name = planner.get("objective") or scenario.get("evaluation", {}).get("objective")
    return str(name) if name else DEFAULT_OBJECTIVE


def _objective_measure(condition: Condition) -> Measure | None:
    name = objective_name(condition)
    return MEASURES.get(name) or MEASURES.get(f"{name}_welfare")


def objective_words(condition: Condition) -> str:
    """The social objective the runs' ``objective`` measure is, in words."""
    measure = _objective_measure(condition)
    text = measure.label if measure is not None else objective_name(condition).replace("_", " ")
    planner = condition.runs[0].scenario.get("planner") or {}
    weights = planner.get("weights") if planner.get("objective") else None
    if weights:
        text += " (" + ", ".join(f"{k} = {v}" for k, v in weights.items()) + ")"
    return text


def _objective_unit(condition: Condition) -> str:
    measure = _objective_measure(condition)
    return measure.unit if measure is not None else MEASURES["objective"].unit
