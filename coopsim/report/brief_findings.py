"""A brief's findings as data: computed from :func:`coopsim.analysis.rules.rules_table`, then
rendered as sentences, and written beside the brief as ``<name>.findings.json``.

Why data first: a sentence assembled while the numbers are looked up can name the wrong rule
or the wrong measure without anything noticing (a headline once ranked fixed matching first on
"net welfare" with the sponsor's money not subtracted). Here each finding holds the measure,
the rules and the estimates it speaks of, and its sentence is made from those alone, so a test
can hold every sentence to the table, and a reader of the JSON gets the same facts.

The headline ranks the rules on one measure computed the same way for every rule: the objective
every rule shares when they share one; else the objective the rules' planners were trained for
when one is and the table has it for every rule (net welfare for the public-goods rules); else
the measure named with ``rank_by``, utilitarian welfare if none is. What each rule was trained
for is stated beside it. Rules whose intervals overlap the best one's are said to tie with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from coopsim.analysis.rules import (
    LEARNERS_RATE,
    NET_WELFARE,
    OBJECTIVE_MEASURES,
    OUTLAY,
    Rule,
    estimate_text,
    group_rules,
    objective_label,
    rules_table,
)
from coopsim.intervals import LEVEL, zero_width_reason
from coopsim.measures import MEASURES
from coopsim.record import RunData

#: The measure of cooperation a brief reports: the learners' contribution rate where every rule
#: has learners (the demo's table, Compare and the notebooks report the same), else the share
#: every seat gave, for every rule alike (one definition for the whole comparison); the label
#: says which, and the sentence names the rules that have no learners' rate, and why.
COOPERATION = LEARNERS_RATE
ALL_SEATS = "contribution_rate"
#: What a brief ranks on when the rules share no objective and none is named.
FALLBACK = "utilitarian_welfare"
#: Measures shown beside the ranking measure in the ranked table, where the rules have them.
DECIDING = (COOPERATION, ALL_SEATS, "equality", OUTLAY, "harvest_per_step", "productivity")
#: How many of them.
DECIDING_SHOWN = 2
#: Findings the page states in words; the ranking itself is the page's table (and in the JSON).
SAID = ("best", "trained_for", "sponsor", "cooperation", "zero_width", "units")


@dataclass
class Finding:
    """One finding: what it speaks of and the sentence said of it."""

    key: str  # ranking, best, trained_for, sponsor, cooperation, zero_width
    sentence: str
    measure: str | None = None
    rules: list[str] = field(default_factory=list)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # rule -> estimate
    notes: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Brief:
    """What a brief's page one says: the question, the ranking and the findings."""

    question: str
    rank_by: str
    rank_reason: str
    ranked: list[str]  # rule labels, best first
    ties: list[str]  # the rules that tie with the best (the best included); one: no tie
    table: pd.DataFrame  # rules_table
    rules: list[Rule]
    findings: list[Finding]

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "rank_by": self.rank_by,
            "rank_reason": self.rank_reason,
            "ranked": self.ranked,
            "ties": self.ties,
            "sponsor_cost": self.table.attrs.get("sponsor_cost"),
            "level": LEVEL,
            "findings": [f.as_dict() for f in self.findings],
        }


def _estimate(row: pd.Series) -> dict[str, Any]:
    return {
        "mean": float(row["mean"]),
        "ci_low": float(row["ci_low"]),
        "ci_high": float(row["ci_high"]),
        "n": int(row["n"]),
        "units": str(row["units"]),
    }


def _values(table: pd.DataFrame, measure: str, rules: Sequence[str]) -> dict[str, dict]:
    rows = table[table["measure"] == measure].set_index("rule")
    return {r: _estimate(rows.loc[r]) for r in rules if r in rows.index}


def text(value: dict[str, Any], measure: str, compact: bool = False) -> str:
    """An estimate as a sentence prints it (see :func:`coopsim.analysis.rules.estimate_text`);
    ``compact``: at most 3 significant digits, for a table a reader scans."""
    if measure == OUTLAY and value["mean"] == 0 and value["ci_high"] == value["ci_low"]:
        return "none"
    return estimate_text(
        value["mean"], value["ci_low"], value["ci_high"], unit_of(measure), compact=compact
    )


def unit_of(measure: str) -> str:
    from coopsim.analysis.rules import measure_words

    return measure_words(measure)[1]


def label_of(measure: str) -> str:
    from coopsim.analysis.rules import measure_words

    return measure_words(measure)[0]


def higher_is_better(measure: str) -> bool:
    m = MEASURES.get(measure)
    if measure == OUTLAY:
        return False
    return True if m is None else m.higher_is_better


def _everywhere(table: pd.DataFrame, measure: str, labels: Sequence[str]) -> bool:
    rows = table[table["measure"] == measure]
    return set(labels) <= set(rows["rule"]) and bool(rows["mean"].map(math.isfinite).all())


def rank_measure(
    rules: Sequence[Rule], table: pd.DataFrame, rank_by: str | None = None
) -> tuple[str, str]:
    """(measure, why it was chosen) for the headline's ranking (see the module's docstring)."""
    labels = [r.label for r in rules]
    present = list(dict.fromkeys(table["measure"]))
    if rank_by is not None:
        if not _everywhere(table, rank_by, labels):
            common = [m for m in present if _everywhere(table, m, labels)]
            raise ValueError(
                f"--rank-by: {rank_by!r} is not measured for every rule; allowed: "
                + ", ".join(common)
            )
        return rank_by, "the measure named to rank by"
    own = {r.own_objective for r in rules}
    if len(own) == 1:
        (objective,) = own
        measure = OBJECTIVE_MEASURES.get(objective)
        if measure and _everywhere(table, measure, labels):
            return measure, "the objective every rule shares"
        if _everywhere(table, "objective", labels):
            return "objective", "the objective every rule shares"
    trained = {r.objective for r in rules if r.objective}
    if len(trained) == 1:
        (objective,) = trained
        measure = OBJECTIVE_MEASURES.get(objective)
        if measure and _everywhere(table, measure, labels):
            return measure, (
                "the objective the planner was trained for, computed the same way for every "
                "rule; the rules share no objective, and --rank-by names another"
            )
    if _everywhere(table, FALLBACK, labels):
        return FALLBACK, "the rules share no objective; --rank-by names another"
    common = [m for m in present if _everywhere(table, m, labels)]
    if not common:
        raise ValueError("the rules have no measure in common to rank them on")
    return common[0], "the rules share no objective; --rank-by names another"


def _overlap(a: dict, b: dict) -> bool:
    return a["ci_low"] <= b["ci_high"] and b["ci_low"] <= a["ci_high"]


def ranking(values: dict[str, dict], higher: bool) -> tuple[list[str], list[str]]:
    """(rules best first, the rules tied with the best: equal means or overlapping intervals)."""
    order = sorted(values, key=lambda r: values[r]["mean"], reverse=higher)
    top = values[order[0]]
    ties = [r for r in order if r == order[0] or _overlap(values[r], top)]
    return order, ties


def _question(rules: Sequence[Rule], measure: str) -> str:
    world = rules[0].world.get("kind", "")
    where = f" in the {str(world).replace('_', '-')} world" if world else ""
    if len(rules) == 1:
        return f"What does {rules[0].label} achieve{where}, on {label_of(measure)} and beyond?"
    listed = ", ".join(r.label for r in rules[:-1]) + f" or {rules[-1].label}"
    return f"Which rule does best{where} on {label_of(measure)}: {listed}?"


def _measure_words(measure: str, cost: float | None) -> str:
    words = f"{label_of(measure)}, {unit_of(measure)}"
    if measure == NET_WELFARE and cost is not None:
        words = (
            f"{label_of(measure)}: the agents' total utility per episode less {cost:g} per coin "
            "a sponsor paid"
        )
    return words


def _ranking_finding(values, order, measure, reason, cost) -> Finding:
    listed = "; ".join(f"{i}. {r} {text(values[r], measure)}" for i, r in enumerate(order, 1))
    return Finding(
        "ranking",
        f"Ranked on {_measure_words(measure, cost)} ({reason}): {listed}.",
        measure,
        list(order),
        values,
        {"reason": reason, "higher_is_better": higher_is_better(measure)},
    )


def _best_finding(values, order, ties, measure) -> Finding:
    label = label_of(measure)
    best = order[0]
    if len(order) == 1:
        sentence = f"{best}: {label} {text(values[best], measure)}."
    elif len(set(round(values[r]["mean"], 12) for r in order)) == 1:
        sentence = f"Every rule ties on {label}: {text(values[best], measure)}."
    elif len(ties) == 1:
        second = order[1]
        sentence = (
            f"{best} did best on {label}, {text(values[best], measure)}; its interval clears "
            f"that of the next best, {second} ({text(values[second], measure)})."
        )
    else:
        shown = "; ".join(f"{r} {text(values[r], measure)}" for r in ties)
        sentence = (
            f"{' and '.join([', '.join(ties[:-1]), ties[-1]])} tie for best on {label}: their "
            f"intervals overlap ({shown}), so these runs do not separate them."
        )
    return Finding("best", sentence, measure, list(ties), {r: values[r] for r in ties})


def _trained_for(rules: Sequence[Rule]) -> Finding:
    planned = [r for r in rules if r.objective]
    fixed = [r.label for r in rules if not r.objective]
    parts = [
        f"{r.label}: a learning planner chose the rule to maximise {objective_label(r.objective)}"
        for r in planned
    ]
    if fixed:
        which = "every rule" if not planned else ", ".join(fixed)
        parts.append(f"{which}: fixed by the scenario, no planner")
    return Finding(
        "trained_for",
        "What each rule was designed for: " + "; ".join(parts) + ".",
        None,
        [r.label for r in rules],
        notes={r.label: r.objective or "fixed" for r in rules},
    )


def _listed(names: Sequence[str]) -> str:
    """Names in words: "a", "a and b", "a, b and c"."""
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _sponsor_finding(table: pd.DataFrame, labels: Sequence[str]) -> Finding | None:
    values = _values(table, OUTLAY, labels)
    paid = {r: v for r, v in values.items() if v["mean"] > 0}
    if not paid:
        return None
    cost = table.attrs.get("sponsor_cost")
    shown = "; ".join(f"{r} {text(v, OUTLAY)}" for r, v in paid.items())
    unpaid = [r for r in values if r not in paid]
    others = (
        f"; {_listed(unpaid)} {'brings' if len(unpaid) == 1 else 'bring'} in no outside money"
        if unpaid
        else ""
    )
    return Finding(
        "sponsor",
        f"A sponsor paid, in coins per episode: {shown}. Net welfare counts each coin at "
        f"{cost:g}{others}.",
        OUTLAY,
        list(paid),
        paid,
        {"sponsor_cost": cost},
    )


def _change(base: dict, other: dict) -> str:
    if other["ci_low"] > base["ci_high"]:
        return "raised it to"
    if other["ci_high"] < base["ci_low"]:
        return "lowered it to"
    return "left it at"


def cooperation_measure(table: pd.DataFrame, labels: Sequence[str]) -> str:
    """The learners' contribution rate where every rule has learners, else every seat's."""
    return COOPERATION if _everywhere(table, COOPERATION, labels) else ALL_SEATS


def _has_learning_seats(rule: Rule) -> bool:
    """Whether the rule's population seats a learner (a planner alone does not count: the
    learners' contribution rate is the learning seats')."""
    from coopsim.config.scenario import LEARNERS

    return any(
        g.get("policy") in LEARNERS and int(g.get("count", 1)) > 0
        for g in rule.scenario.get("population", [])
    )


def _why_all_seats(table: pd.DataFrame, rules: Sequence[Rule]) -> dict[str, str]:
    """rule -> why it has no learners' contribution rate, for each rule without one: the
    reason the whole comparison falls back to every seat's rate (one definition for all)."""
    rows = table[table["measure"] == COOPERATION].set_index("rule")["mean"]
    missing = [r for r in rules if r.label not in rows or not math.isfinite(rows[r.label])]
    return {
        r.label: "no learning seats" if not _has_learning_seats(r) else "no learners' record"
        for r in missing
    }


def _because(why: dict[str, str]) -> str:
    """``why`` in words: "since a and b have no learning seats"."""
    parts = []
    for reason in dict.fromkeys(why.values()):
        names = [r for r, w in why.items() if w == reason]
        verb = "has" if len(names) == 1 else "have"
        if reason == "no learners' record":
            parts.append(f"{_listed(names)} recorded no contributions of its learning seats")
        else:
            parts.append(f"{_listed(names)} {verb} {reason}")
    return "since " + "; and ".join(parts)


def _cooperation(table: pd.DataFrame, rules: Sequence[Rule]) -> Finding | None:
    labels = [r.label for r in rules]
    measure = cooperation_measure(table, labels)
    values = _values(table, measure, labels)
    if len(values) < 2:
        return None
    head = label_of(measure)
    head = head[0].upper() + head[1:]
    notes: dict[str, Any] = {}
    head = f"{head} ({unit_of(measure)})"
    if measure != COOPERATION:  # one definition for every rule: say why it is not the learners'
        why = _why_all_seats(table, rules)
        notes["not_learners_rate"] = why
        head = f"{head}, for every rule alike, {_because(why)}"
    base = next((r for r in labels if r == "no mechanism" and r in values), None)
    if base is None:
        shown = "; ".join(f"{r} {text(v, measure)}" for r, v in values.items())
        sentence = f"{head}: {shown}."
    else:
        others = "; ".join(
            f"{r} {_change(values[base], v)} {text(v, measure)}"
            for r, v in values.items()
            if r != base
        )
        sentence = (
            f"{head}: {text(values[base], measure)} with no "
            f"mechanism; {others} (raised or lowered where the intervals do not overlap)."
        )
    notes["baseline"] = base
    return Finding("cooperation", sentence, measure, list(values), values, notes)


def _zero_width(values: dict[str, dict], measure: str, table: pd.DataFrame) -> Finding | None:
    rows = table[table["measure"] == measure].set_index("rule")
    reasons: dict[str, list[str]] = {}
    for rule, v in values.items():
        if v["ci_high"] > v["ci_low"]:
            continue
        reason = zero_width_reason(v["n"], float(rows.loc[rule, "std"] or 0.0))
        if reason:
            reasons.setdefault(reason, []).append(rule)
    if not reasons:
        return None
    sentence = " ".join(
        f"No spread on {label_of(measure)} under {', '.join(names)}: {reason}."
        for reason, names in reasons.items()
    )
    return Finding(
        "zero_width", sentence, measure, sorted({r for v in reasons.values() for r in v})
    )


def _units_finding(rules: Sequence[Rule]) -> Finding:
    seeds = sorted({len(r.runs) for r in rules})
    one = [r.label for r in rules if len(r.runs) == 1]
    sentence = (
        f"Intervals: {LEVEL:.0%} Student-t over training seeds "
        f"({' or '.join(map(str, seeds))} per rule), each seed's value its mean over the "
        "evaluation episodes, cut to what each measure can take"
    )
    if one:
        sentence += f"; {', '.join(one)} ran at one seed, so its interval is over episodes"
    return Finding("units", sentence + ".", None, [r.label for r in rules])


def brief(runs: Sequence[RunData], rank_by: str | None = None) -> Brief:
    """The brief's question, ranking and findings for ``runs``."""
    rules = group_rules(list(runs))
    table = rules_table(runs)
    labels = [r.label for r in rules]
    measure, reason = rank_measure(rules, table, rank_by)
    values = _values(table, measure, labels)
    order, ties = ranking(values, higher_is_better(measure))
    cost = table.attrs.get("sponsor_cost") if measure == NET_WELFARE else None
    found = [
        _best_finding(values, order, ties, measure),
        _ranking_finding(values, order, measure, reason, cost),
        _trained_for(rules),
    ]
    for extra in (
        _sponsor_finding(table, labels) if measure == NET_WELFARE else None,
        _cooperation(table, rules),
        _zero_width(values, measure, table),
        _units_finding(rules),
    ):
        if extra is not None:
            found.append(extra)
    return Brief(_question(rules, measure), measure, reason, order, ties, table, rules, found)


def ranked_table(b: Brief) -> pd.DataFrame:
    """Page one's table: one row per rule, best first: the ranking measure with its interval,
    the measures that decide, seeds, and what the rule was designed for."""
    first = [OUTLAY] if b.rank_by == NET_WELFARE else []  # what net welfare charges for
    measures = [m for m in dict.fromkeys([*first, *DECIDING]) if m != b.rank_by]
    shown = [m for m in measures if _everywhere(b.table, m, b.ranked)]
    if COOPERATION in shown and ALL_SEATS in shown:  # one contribution rate: the learners'
        shown.remove(ALL_SEATS)
    shown = shown[:DECIDING_SHOWN]
    values = {m: _values(b.table, m, b.ranked) for m in [b.rank_by, *shown]}
    designed = {r.label: r.objective for r in b.rules}
    rows = []
    for i, rule in enumerate(b.ranked, 1):
        row = {"rank": "=1" if rule in b.ties and len(b.ties) > 1 else str(i), "rule": rule}
        for m in [b.rank_by, *shown]:
            row[label_of(m)] = text(values[m][rule], m, compact=True)
        row["seeds"] = (
            str(values[b.rank_by][rule]["n"])
            if values[b.rank_by][rule]["units"] == "training seeds"
            else "1"
        )
        objective = designed.get(rule)
        row["designed for"] = objective_label(objective) if objective else "fixed rule"
        rows.append(row)
    return pd.DataFrame(rows)
