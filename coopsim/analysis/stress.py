"""A verdict per rule from a stress test's ``stress.parquet``: how a rule holds up against agents
it never met.

Four numbers per rule, on one measure (the scenario's objective by default):

* **in-distribution**: against the agents it was trained with;
* **worst case** and **10th percentile** over the populations it never trained with (the other
  seeds' learners, learners trained under other rules, scripted mixes and mixtures); the
  exploiters are apart, since they were trained against the rule;
* **exploitability**: the raw gain an exploiter (one seat, or a coalition; started fresh or
  from the seats it replaced) made over the seats it replaced, per seat over an episode, with
  its interval, and what it did to the objective. Only a gain whose interval lies above zero
  counts: a gain that is not is "no exploitability found at this budget (N iterations)", not
  a negative exploitability; an exploiter that trained longer, or started elsewhere, might
  still find one.

Each is also given as a share of the rule's **yardstick** (:mod:`coopsim.analysis.yardstick`:
the best static rule on the planner's grid with agents at equilibrium) where the yardstick
applies. :func:`~coopsim.analysis.mechanism_optimum.optimal_mechanism` puts *every* seat at
its best response; it has no scripted seats. So the share is given for populations of learners
(in-distribution, cross-seed, cross-rule, exploiters: agents that learned to best-respond) and
left empty for scripted mixes, whose objective at the yardstick's rule is not what the
yardstick computed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from coopsim.analysis.yardstick import yardstick
from coopsim.measures import MEASURES
from coopsim.record import SCENARIO
from coopsim.staging import read_toml
from coopsim.stress.populations import TRAINED_UNDER


class Labelled(Protocol):
    """What the stress analysis reads of a rule of :mod:`coopsim.analysis.rules` (declared here
    so that this module needs nothing from that one, which reads the verdict)."""

    label: str
    scenarios: list[str]


#: Populations a rule never trained with (the worst case and 10th percentile are over these).
UNSEEN = ("cross-seed", "cross-rule", "population")
#: Populations of learners, for which the equilibrium yardstick is the reference.
LEARNERS = ("in-distribution", "cross-seed", "cross-rule", "exploiter")
VERDICT_COLUMNS = (
    "rule",
    "measure",
    "in_distribution",
    "worst_case",
    "worst_population",
    "p10",
    "populations",
    "exploitability",
    "exploiter",
    "exploitable",
    "exploiter_gain",
    "exploiter_gain_low",
    "exploiter_gain_high",
    "exploiter_iterations",
    "objective_change",
    "objective_change_low",
    "objective_change_high",
    "objective_under_exploiter",
    "yardstick",
    "in_distribution_share",
    "worst_case_share",
    "p10_share",
    "objective_under_exploiter_share",
)


def _share(value: float, reference: float | None, applies: bool) -> float:
    if reference is None or not applies or not math.isfinite(reference) or reference == 0:
        return float("nan")
    return value / reference


def verdict(
    frame: pd.DataFrame,
    yardsticks: dict[str, float] | None = None,
    measure: str = "objective",
) -> pd.DataFrame:
    """One row per rule of a ``stress.parquet`` frame (see :data:`VERDICT_COLUMNS`).

    ``yardsticks`` maps a rule to its yardstick's value of ``measure`` (rules without one are
    left out; their shares are empty). The worst case is the lowest mean where higher is
    better (the highest where lower is), and the 10th percentile is taken the same way round.

    The exploiter reported is the one with the largest mean gain among those whose interval
    lies above zero (``exploitable``), else the one with the largest mean gain;
    ``exploitability`` is its gain where exploitable and 0 where not (the raw gain, whatever
    its sign, is ``exploiter_gain``, with ``exploiter_iterations`` its training budget).
    """
    higher = MEASURES[measure].higher_is_better if measure in MEASURES else True
    yardsticks = yardsticks or {}
    rows = []
    for rule, group in frame.groupby("rule", sort=False):
        of = group[group["measure"] == measure]
        home = of[of["kind"] == "in-distribution"]["mean"]
        home_value = float(home.iloc[0]) if len(home) else float("nan")
        unseen = of[of["kind"].isin(UNSEEN)]
        if len(unseen):
            worst_at = unseen["mean"].idxmin() if higher else unseen["mean"].idxmax()
            worst = float(unseen.loc[worst_at, "mean"])
            worst_name = str(unseen.loc[worst_at, "population"])
            worst_kind = str(unseen.loc[worst_at, "kind"])
            p10 = float(np.percentile(unseen["mean"], 10 if higher else 90))
        else:
            worst, worst_name, worst_kind, p10 = float("nan"), "", "", float("nan")
        exploit = _exploiter(group, of)
        exploiter, under_value = exploit[1], exploit[-1]
        ref = yardsticks.get(rule)
        rows.append(
            (
                rule,
                measure,
                home_value,
                worst,
                worst_name,
                p10,
                len(unseen),
                *exploit,
                float("nan") if ref is None else float(ref),
                _share(home_value, ref, True),
                _share(worst, ref, worst_kind in LEARNERS),
                _share(p10, ref, bool(len(unseen)) and unseen["kind"].isin(LEARNERS).all()),
                _share(under_value, ref, bool(exploiter)),
            )
        )
    return pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))


def _exploiter(group: pd.DataFrame, of: pd.DataFrame) -> tuple:
    """One rule's exploiter columns (``exploitability`` to ``objective_under_exploiter``
    of :data:`VERDICT_COLUMNS`), NaN and '' where no exploiter was tried."""
    nan = float("nan")
    exploiters = group[group["kind"] == "exploiter"]
    gains = exploiters[exploiters["measure"] == "exploiter_gain"]
    if not len(gains):
        return (nan, "", False, nan, nan, nan, nan, nan, nan, nan, nan)
    found = gains[gains["ci_low"] > 0]
    pick = found if len(found) else gains
    row = pick.loc[pick["mean"].idxmax()]
    name = str(row["population"])
    mine = exploiters[exploiters["population"] == name].set_index("measure")

    def value(measure: str, column: str = "mean") -> float:
        return float(mine.loc[measure, column]) if measure in mine.index else nan

    gain = float(row["mean"])
    under = of[of["population"] == name]["mean"]
    return (
        gain if len(found) else 0.0,
        name,
        bool(len(found)),
        gain,
        float(row["ci_low"]),
        float(row["ci_high"]),
        value("exploiter_iterations"),
        value("objective_change"),
        value("objective_change", "ci_low"),
        value("objective_change", "ci_high"),
        float(under.iloc[0]) if len(under) else nan,
    )


def _signed(value: float, digits: str = ".3g") -> str:
    return f"{value:+{digits}}" if math.isfinite(value) else "n/a"


def exploitability_words(row) -> str:
    """A verdict row's exploitability in words: the gain with its interval, the budget and
    the objective's change where an exploiter found one; "no exploitability found at this
    budget (N iterations)" where none did, with the best gain for the record."""
    if not row.exploiter:
        return "no exploiter tried"
    n = row.exploiter_iterations
    budget = f"{n:.0f} iterations" if math.isfinite(n) else "budget not recorded"
    gain = (
        f"{_signed(row.exploiter_gain)} [{_signed(row.exploiter_gain_low)}, "
        f"{_signed(row.exploiter_gain_high)}] per seat"
    )
    if not row.exploitable:
        return (
            f"no exploitability found at this budget ({budget}): the best exploiter's gain "
            f"over the seat it replaced, {gain}, is not above zero"
        )
    article = "an" if row.exploiter[:1] in "aeiou" else "a"
    return (
        f"{article} {row.exploiter} gained {gain} over the seat(s) it replaced ({budget}); objective "
        f"change {_signed(row.objective_change, '.4g')} [{_signed(row.objective_change_low, '.4g')}"
        f", {_signed(row.objective_change_high, '.4g')}]"
    )


def worst_case_column(frame: pd.DataFrame, measure: str = "objective") -> pd.Series:
    """Rule -> its worst case over unseen populations: the column a table of rules adds."""
    table = verdict(frame, measure=measure)
    return table.set_index("rule")["worst_case"].rename(f"worst case ({measure})")


def _interval(frame: pd.DataFrame, rule: str, population: str, measure: str) -> pd.Series:
    rows = frame[
        (frame["rule"] == rule)
        & (frame["population"] == population)
        & (frame["measure"] == measure)
    ]
    return rows.iloc[0]


def worst_above_home(
    frame: pd.DataFrame, measure: str = "objective", labels: Mapping[str, str] | None = None
) -> list[str]:
    """A sentence per rule whose worst case is *better* than its in-distribution value, saying
    why that is no contradiction and whether the two differ beyond noise.

    Why it happens: the worst case is over the populations the rule never trained with
    (:data:`UNSEEN`), which do not include its own trained seats; where every one of them does
    better than the rule's own learners (scripted punishers who never punish, say, or other
    seeds' learners who happened to punish less), the worst of them is above the
    in-distribution value. And each population plays episodes of its own (its own worlds of
    the stress test's batch), so with few episodes two populations that play alike differ by
    chance: the sentence says whether the two intervals overlap.

    ``labels`` (:func:`stress_labels`): given, only the rules it covers are read, each named by
    its label and the learners trained under a rule by that rule's label, as the brief and the
    app name them; else by the stress test's names."""
    higher = MEASURES[measure].higher_is_better if measure in MEASURES else True
    if labels is not None:
        frame = frame[frame["rule"].isin(labels)]
    names = dict(labels or {})
    notes = []
    for row in verdict(frame, measure=measure).itertuples():
        home, worst = row.in_distribution, row.worst_case
        if not (math.isfinite(home) and math.isfinite(worst)):
            continue
        if (worst <= home) if higher else (worst >= home):
            continue
        a = _interval(frame, row.rule, "in-distribution", measure)
        b = _interval(frame, row.rule, row.worst_population, measure)
        apart = b["ci_low"] > a["ci_high"] or a["ci_low"] > b["ci_high"]
        why = (
            "the intervals are apart: every unseen population did better than the rule's own "
            "learners"
            if apart
            else "the intervals overlap: within what chance gives at these episodes"
        )
        rule = names.get(row.rule, row.rule)
        population = population_words(str(row.worst_population), names)
        notes.append(
            f"{rule}: worst case {worst:.4g} ({population}) is "
            f"{'above' if higher else 'below'} in-distribution {home:.4g}. The worst case is "
            f"over the {row.populations} population{'s' * (row.populations != 1)} the rule never "
            "trained with, not its own trained seats, and each population plays its own "
            "episodes; "
            f"in-distribution [{a['ci_low']:.4g}, {a['ci_high']:.4g}] over {int(a['n'])} "
            f"{a['over']}, {population} [{b['ci_low']:.4g}, {b['ci_high']:.4g}] "
            f"over {int(b['n'])} {b['over']}: {why}."
        )
    return notes


def rule_yardsticks(run_dirs: Iterable[str | os.PathLike]) -> dict[str, float]:
    """Rule name -> its yardstick's objective, for the runs whose rule has one."""
    found: dict[str, float] = {}
    for run in run_dirs:
        scenario = read_toml(Path(run) / SCENARIO)
        rule = scenario.get("name", "")
        if rule in found:
            continue
        result = yardstick(scenario)
        if not isinstance(result, str):
            found[rule] = result.objective
    return found


def stress_labels(rules: Sequence[Labelled], frame: pd.DataFrame) -> dict[str, str]:
    """The stress test's rule names -> the labels ``rules`` go by (:mod:`coopsim.analysis.rules`).

    A stress test names a rule by its scenario (its runs differ only in their seeds), while
    tables, briefs and the app name it by a label from what tells the rules apart (``matching,
    planner-chosen (1.5)``). A rule is matched where its runs came from one scenario the stress
    test stressed and no other rule of ``rules`` came from that scenario too (two sweep cells
    of one scenario would be one name in the stress test: neither is given its numbers)."""
    stressed = set(frame["rule"])
    claimed: dict[str, list[str]] = {}
    for rule in rules:
        if len(rule.scenarios) == 1 and rule.scenarios[0] in stressed:
            claimed.setdefault(rule.scenarios[0], []).append(rule.label)
    return {name: labels[0] for name, labels in claimed.items() if len(labels) == 1}


def population_words(population: str, labels: Mapping[str, str]) -> str:
    """A population's name with the rule it names (learners ``trained under`` a rule) given by
    that rule's label, where ``labels`` (:func:`stress_labels`) has one."""
    if population.startswith(TRAINED_UNDER):
        other = population[len(TRAINED_UNDER) :]
        return TRAINED_UNDER + labels.get(other, other)
    return population
