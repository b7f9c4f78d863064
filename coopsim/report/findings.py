"""The report's summary: the question asked and the findings, as sentences computed from runs.

Every number in a sentence is an estimate with its 95% interval (:mod:`coopsim.report.
conditions`), printed to the interval's precision (:mod:`coopsim.report.numbers`). Sentences
say only what the numbers show: a best condition whose interval overlaps the runner-up's is
said not to be separated from it, and an interval of zero width is explained.
"""

from __future__ import annotations

from collections.abc import Sequence

from coopsim.intervals import Interval, zero_width_reason
from coopsim.measures import MEASURES, Measure
from coopsim.report import numbers
from coopsim.report.conditions import Condition, baseline, group_wealth, outside_money

#: The measure of cooperation the summary reports where runs have it.
COOPERATION = "contribution_rate"
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


def _named(condition: Condition) -> str:
    """``matching (public_goods_matching)``: the rules first, the scenario that set them."""
    if condition.rules == condition.label:
        return condition.label
    return f"{condition.rules} ({condition.label})"


def _overlap(a: Interval, b: Interval) -> bool:
    return a.ci_low <= b.ci_high and b.ci_low <= a.ci_high


def question(found: Sequence[Condition]) -> str:
    """The question the report answers, from what it compares."""
    world = found[0].runs[0].summary.get("world") or found[0].runs[0].scenario.get("world", {}).get(
        "kind", ""
    )
    where = f" in the {world} world" if world else ""
    objective = objective_words(found[0])
    if len(found) == 1:
        return (
            f"What do the rules of {found[0].label} ({found[0].rules}) achieve{where}: on the "
            f"social objective ({objective}), for each agent, and for cooperation?"
        )
    rules = ", ".join(c.rules for c in found[:-1]) + f" or {found[-1].rules}"
    return (
        f"Which rules do best{where}: {rules}? Best on the social objective ({objective}), "
        "at what cost, who gains, and how does cooperation change?"
    )


def _best_sentence(found: Sequence[Condition], base: Condition) -> tuple[str, Condition]:
    """Which condition did best on the objective, and whether the data separate it."""
    scored = [(c, c.metric("objective")) for c in found]
    scored = [(c, i) for c, i in scored if i is not None]
    unit = _objective_unit(found[0])
    objective = objective_words(found[0])
    if not scored:
        return "The runs recorded no social objective.", base
    if len(found) == 1:
        ((cond, est),) = scored
        return (
            f"Under {_named(cond)} the social objective ({objective}) was {formatted(est)} {unit}.",
            cond,
        )
    ranked = sorted(scored, key=lambda ci: ci[1].mean, reverse=True)
    (best, top), (second, runner) = ranked[0], ranked[1]
    if top.mean == runner.mean:
        tied = [c for c, i in ranked if i.mean == top.mean]
        text = (
            "No rule did better than another on the social objective "
            f"({objective}): {', '.join(c.rules for c in tied)} tie at {formatted(top)} {unit}."
        )
        return text, best
    base_est = base.metric("objective")
    if best is base:
        text = (
            f"No mechanism beat {_named(base)} on the social objective ({objective}): "
            f"{formatted(top)} {unit}; the next best, {_named(second)}, reached "
            f"{formatted(runner)}."
        )
    else:
        text = (
            f"{_named(best)} did best on the social objective ({objective}): {formatted(top)} "
            f"{unit}, against {formatted(base_est)} under {base.rules}."
            if base_est is not None
            else f"{_named(best)} did best on the social objective ({objective}): "
            f"{formatted(top)} {unit}."
        )
    if _overlap(top, runner):
        text += (
            f" Its interval overlaps that of {_named(second)} ({formatted(runner)}), so these "
            "runs do not separate the two."
        )
    return text, best


def _flow_words(condition: Condition) -> str | None:
    money = outside_money(condition)
    if money is None:
        return None
    est = formatted(money)
    if money.mean > 0:
        return (
            f"its mechanisms brought {est} coins per episode in from outside (a sponsor's payments)"
        )
    if money.mean < 0:
        return (
            f"its mechanisms took {est} coins per episode out of the economy (fines and punishment)"
        )
    return "its mechanisms moved money between agents without bringing any in or taking any out"


def _cost_sentence(best: Condition, base: Condition) -> str | None:
    """What the best rules cost: productivity and equality against the baseline, outside money."""
    parts = []
    for name in ("productivity", "equality"):
        a, b = base.metric(name), best.metric(name)
        if a is None or b is None:
            continue
        measure = MEASURES[name]
        if best is base:
            parts.append(f"{measure.label} {formatted(b, measure)}")
        else:
            parts.append(
                f"{measure.label} went from {formatted(a, measure)} under {base.rules} to "
                f"{formatted(b, measure)}"
            )
    flows = None if best.bare else _flow_words(best)
    if flows:
        parts.append(flows)
    if not parts:
        return None
    return f"What it cost, under {best.rules}: " + "; ".join(parts) + "."


def _gain_sentence(best: Condition, base: Condition) -> str | None:
    """Each group's final wealth under the best rules, against the baseline."""
    after = group_wealth(best)
    if not after:
        return None
    if best is base:
        shown = [f"{g}: {formatted(i)}" for g, i in after.items()]
        return (
            f"Final wealth per agent under {best.rules} (coins per episode): "
            + "; ".join(shown)
            + "."
        )
    before = group_wealth(base)
    shared = [g for g in after if g in before]
    if not shared:
        return None
    shared.sort(key=lambda g: after[g].mean - before[g].mean, reverse=True)
    shown = [
        f"{g} {formatted(before[g])} -> {formatted(after[g])} ({_change(before[g], after[g])})"
        for g in shared
    ]
    top = shared[0]
    lead = (
        f"{top} gained most"
        if after[top].mean > before[top].mean
        else f"nobody gained; {top} lost least"
    )
    return (
        f"Who gained under {best.rules}: {lead}. Final wealth per agent, {base.rules} -> "
        f"{best.rules} (coins per episode): " + "; ".join(shown) + "."
    )


def _change(before: Interval, after: Interval) -> str:
    """The change of a mean, signed, to the precision of the later estimate."""
    places = numbers.decimals(after.mean, after.ci_low, after.ci_high)
    text = numbers.number(after.mean - before.mean, places)
    return text if text.startswith("-") else f"+{text}"


def _cooperation_sentence(found: Sequence[Condition]) -> str | None:
    measure = MEASURES[COOPERATION]
    shown = [(c, c.metric(COOPERATION)) for c in found]
    shown = [(c, i) for c, i in shown if i is not None]
    if not shown:
        return None
    text = "; ".join(f"{formatted(i, measure)} under {c.rules}" for c, i in shown)
    return f"Cooperation ({measure.label}, {measure.meaning}): {text}."


def _zero_width_sentence(found: Sequence[Condition]) -> str | None:
    """Why some intervals have no width, per reason, naming the conditions."""
    reasons: dict[str, list[str]] = {}
    for c in found:
        est = c.metric("objective")
        if est is None or est.ci_high > est.ci_low:
            continue
        reason = zero_width_reason(est.n, est.std if est.std == est.std else 0.0)
        if reason is not None:
            reasons.setdefault(reason, []).append(c.rules)
    if not reasons:
        return None
    return " ".join(
        f"Intervals of zero width under {', '.join(names)}: {reason}."
        for reason, names in reasons.items()
    )


def findings(found: Sequence[Condition]) -> list[str]:
    """The summary's sentences: best on the objective, its cost, who gained, cooperation."""
    base = baseline(found)
    best_text, best = _best_sentence(found, base)
    sentences = [best_text]
    for extra in (
        _cost_sentence(best, base),
        _gain_sentence(best, base),
        _cooperation_sentence(found),
        _zero_width_sentence(found),
    ):
        if extra:
            sentences.append(extra)
    return sentences
