"""The demo's findings: each rule against no rule, over training seeds, in numbers and words.

The unit is the training seed: each run gives one value (its mean over evaluation episodes) and
the interval is the house Student-t over those values (:mod:`coopsim.intervals`), so it covers
the luck of training, not only of the evaluation worlds. Contributions are the learning seats'
own: where scripted agents share the world (the punishers of the punishment arm), counting their
fixed behaviour would credit the rule with what the script does. Where a learning planner set
the rule, what it chose at each seed is read from the run's summary and set beside the best rule
on its grid with agents at equilibrium (:func:`coopsim.analysis.optimal_mechanism`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from coopsim.intervals import Interval, t_interval, zero_width_reason
from coopsim.measures import bounds_of
from coopsim.record import RunData, load_run

#: The range of a contribution share (the interval is cut to it, as in tables of rules).
SHARE = bounds_of("contribution_rate")

LEARNER = "ppo"
COLUMNS = ("agent", "policy", "contribution", "gross", "net", "punishment_given")


@dataclass(frozen=True)
class PlannerDesign:
    """The rule a learning planner settled on at each training seed, and the yardstick."""

    controls: tuple[str, ...]  # the parameters it set, e.g. ('matching.rate',)
    objective: str
    grid: tuple[tuple[float, ...], ...]  # per control, the values it could choose
    chosen: tuple[tuple[float, ...], ...]  # per seed, per control: its evaluated rule
    best: tuple[float, ...]  # per control: the best rule on the grid at equilibrium


@dataclass(frozen=True)
class ArmFindings:
    """One rule over its training seeds."""

    label: str
    rule: str  # what the mechanisms do as configured, from the runs' summaries
    seeds: int
    learners: int  # learning seats per world
    seats: int
    scripted: tuple[str, ...]  # the scripted policies sharing the world, if any
    contribution: Interval  # learners' share of their endowment contributed
    payoff: Interval  # every agent's net payoff per round
    outside: Interval  # money per agent and round the rules brought in (+) or destroyed (-)
    punishment: Interval | None  # points each learner gave per round, where it could punish
    design: PlannerDesign | None = None  # what a learning planner chose, where one set the rule


def run_values(run: RunData) -> dict[str, float]:
    """One run's means over its evaluation episodes: learners' contribution share, payoff per
    agent and round, what the rules added to it from outside (a sponsor's match) or destroyed
    (fines burned, punishment), learners' punishment points per round (NaN where none)."""
    episodes = run.episodes
    learners = episodes[episodes["policy"] == LEARNER]
    if learners.empty:
        raise ValueError(f"{run.path}: episodes.parquet: no seat has policy {LEARNER!r}")
    endowment = float(run.scenario["world"]["endowment"])
    punished = (
        float(learners["punishment_given"].mean())
        if "punishment_given" in learners
        else float("nan")
    )
    return {
        "contribution": float(learners["contribution"].astype(float).mean()) / endowment,
        "payoff": float(episodes["net"].mean()),
        "outside": float((episodes["net"] - episodes["gross"]).mean()),
        "punishment": punished,
    }


def planner_rules(runs: list[RunData]) -> list[list[float]] | None:
    """The rule each run's planner was evaluated with, per seed (None unless every run had a
    planner)."""
    chosen = [run.summary.get("training", {}).get("planner_schedule") for run in runs]
    return None if any(rule is None for rule in chosen) else chosen


def planner_design(runs: list[RunData]) -> PlannerDesign | None:
    """What the runs' planner chose (None where no planner set the rule)."""
    chosen = planner_rules(runs)
    if chosen is None:
        return None
    from coopsim import scenario as sc
    from coopsim.analysis.mechanism_optimum import optimal_mechanism

    scenario = sc.load(runs[0].path / "scenario.toml")
    optimum = optimal_mechanism(scenario).yardstick  # the best rule with a strict equilibrium
    return PlannerDesign(
        controls=tuple(optimum.controls),
        objective=scenario.planner.objective,
        grid=tuple(tuple(values) for values in optimum.grid.values()),
        chosen=tuple(tuple(float(v) for v in rule) for rule in chosen),
        best=tuple(optimum.controls.values()),
    )


def arm_findings(label: str, runs: list[RunData]) -> ArmFindings:
    """Across-seed intervals of one arm's runs."""
    values = pd.DataFrame([run_values(run) for run in runs])
    first = runs[0]
    policies = first.episodes.drop_duplicates("agent")["policy"]
    scripted = tuple(sorted(set(policies) - {LEARNER}))
    rule = " ".join(m["description"] for m in first.summary.get("mechanisms", []))
    punishment = values["punishment"].to_numpy()
    return ArmFindings(
        label=label,
        rule=rule,
        seeds=len(runs),
        learners=int((policies == LEARNER).sum()),
        seats=len(policies),
        scripted=scripted,
        contribution=t_interval(values["contribution"].to_numpy(), bounds=SHARE),
        payoff=t_interval(values["payoff"].to_numpy()),
        outside=t_interval(values["outside"].to_numpy()),
        punishment=None if np.isnan(punishment).any() else t_interval(punishment),
        design=planner_design(runs),
    )


def load_findings(paths: Mapping[str, Mapping[int, Path]]) -> list[ArmFindings]:
    """{arm: {seed: run directory}} -> findings per arm, in the mapping's order."""
    return [
        arm_findings(label, [load_run(p, columns=COLUMNS) for p in by_seed.values()])
        for label, by_seed in paths.items()
    ]


def training_seconds(runs: list[RunData]) -> list[float] | None:
    """Each run's training time as its summary records it (the trainer's own clock, without
    evaluation or writing the run), or None where a run has none (an evaluated-only run, or a
    folder written before the budget was recorded)."""
    seconds = [(run.summary.get("training") or {}).get("seconds") for run in runs]
    if any(not isinstance(s, int | float) for s in seconds):
        return None
    return [float(s) for s in seconds]


def seconds_range(seconds: list[float]) -> str:
    """``3.0-6.3 s a seed``, or ``3.0 s`` for one run: how long a rule's seeds trained, so a
    reader of the demo sees which rule the wait went to."""
    low, high = f"{min(seconds):.1f}", f"{max(seconds):.1f}"
    if len(seconds) == 1:
        return f"{low} s"
    return f"{low} s a seed" if low == high else f"{low}-{high} s a seed"


def arm_line(label: str, paths: list[Path]) -> str:
    """One rule's result as soon as its seeds are done: the learners' contribution over the
    seeds, how long each seed trained and, where a planner set the rule, what it chose at each
    (no yardstick yet: that is the takeaway's)."""
    runs = [load_run(p, columns=COLUMNS) for p in paths]
    shares = t_interval(np.array([run_values(run)["contribution"] for run in runs]), bounds=SHARE)
    line = f"{label}: learners contributed {percent(shares)} over {len(runs)} training seeds"
    seconds = training_seconds(runs)
    if seconds is not None:
        line += f" (trained {seconds_range(seconds)})"
    chosen = planner_rules(runs)
    if chosen is not None:
        picks = ", ".join("/".join(_value(v) for v in rule) for rule in chosen)
        line += f"; the planner chose {picks}"
    return line


def _num(value: float, digits: int) -> str:
    """``value`` to ``digits`` decimals, never ``-0.0``."""
    return f"{round(value, digits) + 0.0:.{digits}f}"


def percent(iv: Interval) -> str:
    """``4% [2, 7]``; bounds clipped to [0, 100], the range a share can take (a t interval
    around a mean near 0 or 1 can reach past it)."""
    low, high = (min(max(v * 100, 0.0), 100.0) for v in (iv.ci_low, iv.ci_high))
    return f"{_num(iv.mean * 100, 0)}% [{_num(low, 0)}, {_num(high, 0)}]"


def amount(iv: Interval, digits: int = 1, floor: float | None = None) -> str:
    """``20.0 [19.8, 20.2]``; ``floor`` clips the bounds of a quantity that cannot go below it."""
    low = iv.ci_low if floor is None else max(iv.ci_low, floor)
    return f"{_num(iv.mean, digits)} [{_num(low, digits)}, {_num(iv.ci_high, digits)}]"


def change(base: Interval, arm: Interval) -> str:
    """'raised', 'lowered' or 'did not clearly change', by whether the intervals overlap."""
    if arm.ci_low > base.ci_high:
        return "raised"
    if arm.ci_high < base.ci_low:
        return "lowered"
    return "did not clearly change"


def _value(x: float) -> str:
    """A rule's value as a reader would write it: ``2``, ``1.5``."""
    return f"{x:g}"


def design_sentence(design: PlannerDesign) -> str:
    """What the planner chose, at how many seeds, against the best rule on its grid."""
    parts = []
    for k, control in enumerate(design.controls):
        picks = [rule[k] for rule in design.chosen]
        counts = {v: picks.count(v) for v in dict.fromkeys(picks)}
        said = " and ".join(
            f"{_value(v)} at {n} of {len(picks)} training seeds" for v, n in counts.items()
        )
        grid = ", ".join(_value(v) for v in design.grid[k])
        parts.append(
            f"set {control} (one of {grid}) and chose {said}; the best rule on that grid with "
            f"agents at equilibrium is {_value(design.best[k])}"
        )
    objective = design.objective.replace("_", " ")
    return f"A learning planner, paid the {objective}, " + "; it ".join(parts) + "."


def format_table(arms: list[ArmFindings]) -> str:
    """One row per rule; a zero-width interval is marked with a note saying why."""
    reasons: list[str] = []  # one note per distinct reason, numbered as first met

    def cell(text: str, iv: Interval) -> str:
        reason = zero_width_reason(iv.n, iv.std)
        if reason is None:
            return text
        if reason not in reasons:
            reasons.append(reason)
        return f"{text} ({reasons.index(reason) + 1})"

    from coopsim.analysis.rules import LEARNERS_RATE, measure_words

    # the label tables of rules, briefs and notebooks give the same number
    header = ("rule", measure_words(LEARNERS_RATE)[0], "payoff per agent-round",
              "of it from outside")  # fmt: skip
    rows = [
        (
            a.label,
            cell(percent(a.contribution), a.contribution),
            cell(amount(a.payoff), a.payoff),
            cell(amount(a.outside), a.outside),
        )
        for a in arms
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    lines += [f"({i}) zero width: {reason}" for i, reason in enumerate(reasons, 1)]
    return "\n".join(lines)


def takeaway(arms: list[ArmFindings]) -> list[str]:
    """Plain sentences, each computed from the table's numbers; the first arm is the baseline."""
    base, *rest = arms
    lines = [
        f"With no mechanism the learners contributed {percent(base.contribution)} of their "
        f"endowment and each agent earned {amount(base.payoff)} a round."
    ]
    for arm in rest:
        effect = (
            f"{change(base.contribution, arm.contribution)} the learners' contributions from "
            f"{percent(base.contribution)} to {percent(arm.contribution)}; each agent's payoff "
            f"a round went from {amount(base.payoff)} to {amount(arm.payoff)}"
        )
        if arm.design is not None:
            line = f"{design_sentence(arm.design)} This {effect}"
        elif arm.rule:
            line = f"{arm.rule} This {effect}"
        else:
            line = f"{arm.label.capitalize()} {effect}"
        if abs(arm.outside.mean) >= 0.05:
            verb = "came from outside (a sponsor)" if arm.outside.mean > 0 else "was destroyed"
            line += f", of which {amount(arm.outside)} {verb}"
        line += "."
        if arm.scripted:
            line += (
                f" {arm.seats - arm.learners} of {arm.seats} seats are scripted "
                f"({', '.join(arm.scripted)}); the contributions are the {arm.learners} learners'."
            )
        if arm.punishment is not None:
            line += (
                f" The learners themselves gave {amount(arm.punishment, 2, floor=0.0)} "
                "punishment points a round."
            )
        lines.append(line)
    seeds = sorted({a.seeds for a in arms})
    lines.append(
        "Payoffs count the rules' transfers; 'from outside' is what they added (a sponsor's "
        "match) or destroyed (burned fines, punishment). "
        f"Intervals: 95% Student-t over {', '.join(map(str, seeds))} training seeds, each "
        "seed's value its mean over the evaluation episodes."
    )
    return lines


def by_rule(paths: Mapping[str, Mapping[int, Path]]) -> dict[str, Mapping[int, Path]]:
    """{arm: {seed: run}} keyed by each arm's rule label instead (as ``coopsim compare``, the
    app and the brief name the rules: :func:`coopsim.analysis.rules.group_rules`)."""
    from coopsim.analysis.rules import group_rules

    runs = {
        arm: [load_run(p, columns=COLUMNS) for p in by_seed.values()]
        for arm, by_seed in paths.items()
    }
    everyone = [run for group in runs.values() for run in group]  # a planner's label: every seed
    label = {run.name: rule.label for rule in group_rules(everyone) for run in rule.runs}
    return {label[runs[arm][0].name]: by_seed for arm, by_seed in paths.items()}
