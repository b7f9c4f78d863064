"""Rules as the unit: runs grouped by the rules they ran under, measured over training seeds.

A mechanism designer asks what a *rule* does (matching at 4:1, a fine of 1.5, a match a planner
chooses), not what one run directory holds. A rule here is what agents lived under and who they
were: the world, the mechanisms with their resolved parameter values, the planner's controls
where one learned them, and the population. Runs that differ only by seed are one rule.

Why training seeds are the units: a learned policy's outcome depends on the luck of its
training, which the episodes of one run do not show. Each run gives one value per measure (its
mean over evaluation episodes) and the interval is over those values; only a rule run at one
seed falls back to its episodes, and the table says which (``units``). Every interval is cut to
the measure's range (:mod:`coopsim.intervals`).

Why net welfare is computed here: a planner paid the welfare net of a sponsor's outlay records it
as its objective, but a fixed matching rule records no outlay, so the rules could not be ranked
on it side by side. Every public-goods rule gets it, utilitarian welfare less the sponsor's
outlay at the stated cost per unit (the planners' ``sponsor_cost`` where they state one, else
1), from what each run wrote.

Labels are short and come from what differs between the rules compared: ``matching 4:1``,
``matching, planner-chosen (2)``, ``institution fine 1.5 + rebate``; the CLI, the app, the
brief and the notebooks all print these.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coopsim.intervals import LEVEL, clip, t_interval
from coopsim.measures import MEASURES, bounds_of
from coopsim.record import RunData

#: Short words for mechanism kinds in labels (others: the kind with spaces).
KIND_WORDS = {
    "sanction_institution": "institution",
    "peer_punishment": "peer punishment",
    "lump_sum": "rebate",
    "provision_point": "provision point",
    "extraction_tax": "extraction tax",
}

#: The parameter a label names a mechanism by, and how it is written, where the kind has one.
PRIMARY = {
    "matching": ("rate", lambda v: f"{_num(v)}:1"),
    "sanction_institution": ("fine", lambda v: f"fine {_num(v)}"),
    "peer_punishment": ("impact", lambda v: f"{_num(v)}x"),
    "quota": ("limit", lambda v: f"limit {_num(v)}"),
    "extraction_tax": ("rate", lambda v: f"rate {_num(v)}"),
}

#: Parameters that configure what agents observe or how a rule is shown, not what it does.
NOT_RULE = ("observed",)

#: Tax schedules by the name a reader knows them by.
TAX_SCHEDULES = {"saez": "Saez tax", "us_federal_2018": "US federal tax"}
#: A tax's parameters its schedule's name already says (or, for Saez, how it learns its rates):
#: a label names the schedule, not these.
TAX_SAID = ("schedule", "rates", "brackets", "scale", "memory")


def _tax_words(mechanism: dict[str, Any]) -> str:
    """A tax by its schedule (``Saez tax``, ``US federal tax``, ``flat tax 0.2``, ``no tax``).

    Why: a tax's parameter dump (``tax memory 8192 rates [0.0, ...] schedule saez``) hid the one
    thing that tells the economy's regimes apart; a custom schedule of zero rates is the free
    market's."""
    schedule = str(mechanism.get("schedule", "custom"))
    rates = [float(r) for r in mechanism.get("rates", [])]
    if schedule in TAX_SCHEDULES:
        return TAX_SCHEDULES[schedule]
    if schedule == "flat" and rates:
        return f"flat tax {_num(rates[0])}"
    if not any(rates):
        return "no tax"
    return "tax rates " + "/".join(_num(r) for r in rates)


#: Mechanisms an outside sponsor pays for -> the sponsor's outlay from the run's summed
#: transfers and the world's config. Matching pays ``multiplier x rate x contributions`` into
#: the pot (``transfer_matching``) for an outlay of ``rate x contributions``.
SPONSORED = {"matching": lambda transfers, world: transfers / float(world.get("multiplier", 1.0))}

#: Measures derived here (not in the registry: runs do not record them) -> (label, unit).
NET_WELFARE, OUTLAY = "net_welfare", "sponsor_outlay"
LEARNERS_RATE = "learners_contribution_rate"
DERIVED = {
    NET_WELFARE: ("net welfare", "utility per episode less the sponsor's outlay at its cost"),
    OUTLAY: ("sponsor's outlay", "coins per episode paid from outside"),
    LEARNERS_RATE: ("learners' contribution rate", "share of endowment the learning seats gave"),
}

#: Registry measures relabelled where rules are compared, so a label says which seats count:
#: the registry's contribution rate counts every seat, scripted punishers and altruists too,
#: while :data:`LEARNERS_RATE` counts the learners, what a rule changed in them.
RELABELLED = {"contribution_rate": "contribution rate, all seats"}

#: The measure of cooperation that tables of rules, briefs, the demo and notebooks report: the
#: learners' where a rule has learners (what the rule taught them), one definition everywhere.
COOPERATION = LEARNERS_RATE

#: Unit words for the ``units`` column.
SEEDS, EPISODES = "training seeds", "evaluation episodes"


def _num(value: Any) -> str:
    """A parameter value as a reader writes it: ``4``, ``1.5``."""
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


@dataclass(frozen=True)
class Rule:
    """One rule and the runs (training seeds) made under it."""

    key: str  # identity: world, mechanisms, planner, population as JSON
    runs: tuple[RunData, ...]
    label: str = ""

    @property
    def scenario(self) -> dict[str, Any]:
        return self.runs[0].scenario

    @property
    def mechanisms(self) -> list[dict[str, Any]]:
        return list(self.scenario.get("mechanisms", []))

    @property
    def planner(self) -> dict[str, Any] | None:
        return self.scenario.get("planner") or None

    @property
    def controls(self) -> tuple[str, ...]:
        """The ``kind.param`` names a planner set (none without a learning planner)."""
        return tuple((self.planner or {}).get("controls", ()))

    @property
    def chosen(self) -> list[list[float]]:
        """Per seed, per control: the value the planner's rule was evaluated with."""
        out = []
        for run in self.runs:
            schedule = (run.summary.get("training") or {}).get("planner_schedule")
            if schedule is None:
                schedule = (run.summary.get("planner") or {}).get("mean_controls") or []
            out.append([float(v) for v in schedule])
        return out

    @property
    def objective(self) -> str | None:
        """The objective a planner was trained for (None: no planner learned this rule)."""
        return (self.planner or {}).get("objective") if self.controls else None

    @property
    def own_objective(self) -> str:
        """The objective the rule's ``objective`` measure is: its planner's, else its
        evaluation's (equality x productivity unless the scenario names another)."""
        planner = self.planner or {}
        evaluation = self.scenario.get("evaluation") or {}
        return str(
            planner.get("objective") or evaluation.get("objective") or "equality_times_productivity"
        )

    @property
    def world(self) -> dict[str, Any]:
        return dict(self.scenario.get("world", {}))

    @property
    def scenarios(self) -> list[str]:
        return list(dict.fromkeys(str(r.summary.get("scenario") or r.name) for r in self.runs))

    @property
    def units(self) -> str:
        return SEEDS if len(self.runs) > 1 else EPISODES


#: Summaries' ``source`` of runs people played (the app's Play page, an oTree import).
PEOPLE_SOURCES = ("play", "otree")


def _identity(run: RunData) -> str:
    """What makes a rule: the world, the mechanisms (controlled values replaced by the planner
    that sets them), the planner's design, the population."""
    scenario = run.scenario
    planner = scenario.get("planner") or {}
    controls = set(planner.get("controls", ()))
    mechanisms = []
    for m in scenario.get("mechanisms", []):
        kind = m.get("kind")
        params = {
            k: ("planner" if f"{kind}.{k}" in controls else v)
            for k, v in sorted(m.items())
            if k not in NOT_RULE
        }
        mechanisms.append(params)
    design = (
        {k: planner.get(k) for k in ("controls", "grid", "objective", "sponsor_cost", "weights")}
        if controls
        else None
    )
    population = [
        (g.get("policy"), g.get("count", 1), g.get("params", {}))
        for g in scenario.get("population", [])
    ]
    world = {k: v for k, v in scenario.get("world", {}).items() if v != []}
    identity = [world, mechanisms, design, population]
    if run.summary.get("source") in PEOPLE_SOURCES:  # people's tables: never pooled with seeds
        identity.append("played by people")
    return json.dumps(identity, sort_keys=True, default=str)


def group_rules(runs: Sequence[RunData], cells: Mapping[str, str] | None = None) -> list[Rule]:
    """Runs grouped by rule, each with its label, in the order of :func:`order_key` (not the
    order the runs came in, so every table, figure and brief lists the rules alike, and a
    new run never reshuffles them); a rule's runs keep the order they came in.

    ``cells`` maps a run directory (its path as a string) to the name of the cell it was run
    in (a sweep's, :func:`sweep_cells`): such runs group by cell and take its name as their
    label, since a sweep may vary what a rule's content does not show (a training field)."""
    cells = {str(Path(k)): v for k, v in (cells or {}).items()}
    groups: dict[str, list[RunData]] = {}
    for run in runs:
        cell = cells.get(str(run.path))
        groups.setdefault(json.dumps(["cell", cell]) if cell else _identity(run), []).append(run)
    rules = [Rule(key, tuple(group)) for key, group in groups.items()]
    labels = rule_labels([r for r in rules if not r.key.startswith('["cell"')])
    named = iter(labels)
    labelled = [
        Rule(r.key, r.runs, json.loads(r.key)[1] if r.key.startswith('["cell"') else next(named))
        for r in rules
    ]
    return sorted(labelled, key=order_key)


def _does(mechanism: Mapping[str, Any]) -> str:
    """What a mechanism is, for ordering rules: its kind, and a tax's schedule."""
    kind = str(mechanism.get("kind"))
    return f"tax {mechanism.get('schedule', 'custom')}" if kind == "tax" else kind


@functools.cache
def shipped_order() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(scenario names, what each one's first mechanism is) in the order coopsim's own
    comparisons print their rules: ``coopsim demo``'s arms
    (:data:`coopsim.experiments.demo.ARMS`), then the economy's regimes family by family
    (:data:`coopsim.experiments.regimes.CELLS`). Read from those definitions, so a new arm
    reorders every table with the demo's. A scenario that cannot be found (a scenarios folder
    of one's own in ``COOPSIM_SCENARIOS``) is left out: an order must not stop a table, and
    rules then fall back to their labels' order."""
    from coopsim import scenario
    from coopsim.experiments.demo import ARMS
    from coopsim.experiments.regimes import FAMILIES, family_regimes
    from coopsim.schema import ConfigError

    wanted = [arm.scenario for arm in ARMS.values()]
    wanted += [name for family in FAMILIES for name in family_regimes(family).values()]
    names, firsts = [], []
    for name in wanted:
        try:
            mechanisms = scenario.load(name).to_dict().get("mechanisms", [])
        except ConfigError:
            continue
        names.append(name)
        firsts.append(_does(mechanisms[0]) if mechanisms else "")
    return tuple(names), tuple(firsts)


def rule_tier(rule: Rule) -> int:
    """0: no rule (no mechanism, or only ones that change nothing: a tax of zero rates, a
    rebate with nothing to rebate); 1: a fixed rule; 2: a rule a learning planner sets."""
    if rule.controls:
        return 2
    inert = all(
        m.get("kind") == "lump_sum" or (m.get("kind") == "tax" and _tax_words(m) == "no tax")
        for m in rule.mechanisms
    )
    return 0 if inert else 1


def _natural(text: str) -> tuple[str | float, ...]:
    """``text`` with its numbers compared as numbers: ``matching 2:1`` before ``10:1``."""
    parts = re.split(r"(\d+(?:\.\d+)?)", text)
    return tuple(float(p) if i % 2 else p for i, p in enumerate(parts))


def order_key(rule: Rule) -> tuple[Any, ...]:
    """Where a rule stands in every list of rules: world by world (by kind, then by their
    parameters, numbers as numbers: the economy's two families apart), then no rule first,
    fixed rules next, rules a learning planner sets last; among those, in the order
    ``coopsim demo`` and the economy's regimes print theirs (:func:`shipped_order`: a rule
    of one of their scenarios at its place, another at the place of the first of them whose
    first mechanism is the same kind, e.g. a scripted matching rule at the demo's matching),
    then by label, numbers as numbers. Why: a reader who ran the demo finds its rules in the
    order the demo printed them, and the order depends on the rules, not on when each ran."""
    names, firsts = shipped_order()
    known = [names.index(s) for s in rule.scenarios if s in names]
    first = _does(rule.mechanisms[0]) if rule.mechanisms else ""
    like = [k for k, f in enumerate(firsts) if f == first] + [len(names)]
    rank = min(known or like)
    world = {k: v for k, v in rule.world.items() if v != []}  # as a rule's identity has it
    family = (str(world.get("kind", "")), _natural(json.dumps(world, sort_keys=True)))
    return (*family, rule_tier(rule), rank, _natural(rule.label), rule.label, rule.key)


def _field_phrase(field: str, value: Any, scenario: Mapping[str, Any]) -> str:
    """A swept field and its value as a label's words: ``mechanisms.0.rate = 1.5`` ->
    ``matching 1.5:1``; ``world.multiplier = 1.6`` -> ``multiplier 1.6``."""
    parts = field.split(".")
    if len(parts) == 3 and parts[0] == "mechanisms" and parts[1].isdigit():
        mechanisms = scenario.get("mechanisms", [])
        i = int(parts[1])
        kind = str(mechanisms[i].get("kind")) if i < len(mechanisms) else ""
        word = KIND_WORDS.get(kind, kind.replace("_", " "))
        primary = PRIMARY.get(kind)
        if primary and primary[0] == parts[2]:
            return f"{word} {primary[1](value)}".strip()
        return f"{word} {parts[2].replace('_', ' ')} {_num(value)}".strip()
    return f"{parts[-1].replace('_', ' ')} {_num(value)}"


def sweep_cells(folder: str | os.PathLike) -> dict[str, str]:
    """A sweep folder's finished runs -> the label of the cell each ran in, from the values of
    the fields that differ between its cells (``matching 1.5:1``, ``matching 2:1, multiplier
    1.6``): a sweep's cells are rules, one per cell, pooled over its seeds."""
    from coopsim.files import read_toml
    from coopsim.record import SCENARIO, load_sweep

    folder = Path(folder)
    table = load_sweep(folder)
    fields = list(table.attrs.get("fields", []))
    done = table[(table["status"] == "ok") & table["run"].astype(bool)]
    varying = [f for f in fields if done[f].astype(str).nunique() > 1] or fields
    out: dict[str, str] = {}
    for row in done.to_dict("records"):
        path = folder / str(row["run"])
        if not (path / SCENARIO).is_file():
            continue
        scenario = read_toml(path / SCENARIO)
        value = [row[f].item() if hasattr(row[f], "item") else row[f] for f in varying]
        words = [_field_phrase(f, v, scenario) for f, v in zip(varying, value)]
        out[str(path)] = ", ".join(words) or str(row["cell"])
    return out


def _mechanism_words(rule: Rule, differing: dict[str, set[str]]) -> list[str]:
    """One phrase per mechanism: its word, the parameters that tell it apart, a planner's pick."""
    controls = rule.controls
    chosen = rule.chosen
    phrases = []
    for m in rule.mechanisms:
        kind = str(m.get("kind"))
        word = KIND_WORDS.get(kind, kind.replace("_", " "))
        planned = [c for c in controls if c.split(".")[0] == kind]
        if planned:
            picks = []
            for c in planned:
                k = controls.index(c)
                values = list(dict.fromkeys(_num(seed[k]) for seed in chosen if len(seed) > k))
                picks.append("/".join(values) if values else "?")
            phrases.append(f"{word}, planner-chosen ({'; '.join(picks)})")
            continue
        shown = []
        primary = PRIMARY.get(kind)
        names = sorted(differing.get(kind, set()) - {primary[0] if primary else ""})
        if kind == "tax":
            word = _tax_words(m)
            names = [name for name in names if name not in TAX_SAID]
        if primary and primary[0] in m:
            shown.append(primary[1](m[primary[0]]))
        shown += [f"{name.replace('_', ' ')} {_num(m[name])}" for name in names if name in m]
        phrases.append(" ".join([word, *shown]))
    return phrases


def _population_words(rule: Rule) -> str:
    groups = rule.scenario.get("population", [])
    return " + ".join(f"{g.get('count', 1)} {g.get('policy', '?')}" for g in groups)


def rule_labels(rules: Sequence[Rule]) -> list[str]:
    """Short labels, distinct among ``rules``, from what differs between them.

    A mechanism is named by a word and its main parameter (``matching 4:1``, ``institution fine
    1.5``), plus any other parameter whose value differs between the rules that have it; a
    planner's pick is said as such; populations are named where they differ; a label that would
    still repeat gets its scenario's name.
    """
    values: dict[tuple[str, str], set[str]] = {}
    for rule in rules:
        for m in rule.mechanisms:
            for k, v in m.items():
                if k not in ("kind", *NOT_RULE):
                    values.setdefault((str(m.get("kind")), k), set()).add(json.dumps(v))
    differing: dict[str, set[str]] = {}
    for (kind, name), seen in values.items():
        if len(seen) > 1:
            differing.setdefault(kind, set()).add(name)
    populations = [_population_words(r) for r in rules]
    counts = Counter(populations)
    # the most common population goes unsaid; among equally common ones the first in sorted
    # order, so a rule's label never depends on the order the runs came in
    usual = min(counts, key=lambda p: (-counts[p], p)) if rules else ""
    labels = []
    for rule, population in zip(rules, populations):
        phrases = _mechanism_words(rule, differing)
        label = " + ".join(phrases) if phrases else "no mechanism"
        if population != usual:  # name the seats that are not the usual population's
            usual_policies = {g.split(" ", 1)[1] for g in usual.split(" + ") if " " in g}
            extra = [
                f"{g.get('count', 1)} {str(g.get('policy', '?')).replace('_', ' ')} "
                + ("seat" if g.get("count", 1) == 1 else "seats")
                for g in rule.scenario.get("population", [])
                if g.get("policy") not in usual_policies
            ]
            label += f", with {' and '.join(extra) or population}"
        if any(r.summary.get("source") in PEOPLE_SOURCES for r in rule.runs):
            label += ", played by people"
        labels.append(label)
    counts = Counter(labels)
    return [
        f"{label} [{', '.join(rule.scenarios)}]" if counts[label] > 1 else label
        for label, rule in zip(labels, rules)
    ]


def sponsor_cost(rules: Sequence[Rule]) -> float:
    """The cost per unit of a sponsor's outlay: the one the planners paid net welfare state (1
    where none does).

    Only those: a planner's ``sponsor_cost`` is used by the net-welfare objective alone, and a
    planner trained for another (a tax planner's equality x productivity) still has the
    default, 1, in its resolved scenario, which would otherwise clash with the demo planner's
    1.8. Raises where planners paid net welfare state different costs: net welfare would not
    be one measure."""
    stated = {
        float(r.planner["sponsor_cost"])
        for r in rules
        if r.planner
        and r.planner.get("objective") == "net_welfare"
        and r.planner.get("sponsor_cost") is not None
    }
    if len(stated) > 1:
        raise ValueError(
            f"the rules' planners state different sponsor costs ({sorted(stated)}); "
            "compare them apart, or in Python pass rules_table(..., cost=) to compare net "
            "welfare at one"
        )
    return stated.pop() if stated else 1.0


def outlay_per_episode(run: RunData) -> pd.Series | None:
    """What outside sponsors paid in each evaluation episode (0 where no mechanism is
    sponsored); None where the run recorded no transfers to read it from."""
    eps = run.episodes
    if eps.empty or "episode" not in eps:
        return None
    episodes = np.sort(eps["episode"].unique())
    total = pd.Series(0.0, index=episodes)
    world = run.scenario.get("world", {})
    for kind, outlay in SPONSORED.items():
        column = f"transfer_{kind}"
        if any(m.get("kind") == kind for m in run.scenario.get("mechanisms", [])):
            if column not in eps:
                return None
            per_episode = eps.groupby("episode")[column].sum().reindex(episodes)
            total = total + outlay(per_episode.astype(float), world)
    return total


def _bounds(name: str):
    """A measure's range: the registry's, a share's for the learners' contribution rate."""
    return bounds_of("contribution_rate" if name == LEARNERS_RATE else name)


def learners_rate(run: RunData) -> pd.Series | None:
    """Per evaluation episode, the share of their endowment the learning seats contributed
    (their mean contribution per round over the endowment); None where the run has no learning
    seat or recorded no contributions. The run's mean of it is the demo's learners'
    contribution (:func:`coopsim.analysis.demo_findings.run_values`): every episode has as many
    rows, so the mean of the episodes' means is the mean over all rows."""
    from coopsim.config.scenario import LEARNERS

    eps = run.episodes
    endowment = run.scenario.get("world", {}).get("endowment")
    if eps.empty or not {"episode", "policy", "contribution"} <= set(eps) or not endowment:
        return None
    seats = eps[eps["policy"].astype(str).isin(LEARNERS)]
    if seats.empty:
        return None
    shares = seats["contribution"].astype(float) / float(endowment)  # float64, as the demo's
    return shares.groupby(seats["episode"]).mean()


def per_episode(run: RunData, cost: float) -> pd.DataFrame:
    """One row per evaluation episode, one column per measure the run has, with the sponsor's
    outlay and net welfare added for a public-goods run (empty for a run written before
    episode metrics were recorded)."""
    table = run.episode_metrics
    if table is None:
        return pd.DataFrame()
    table = table.set_index("episode") if "episode" in table else table
    names = [m for m in MEASURES if m in table]
    frame = table[names].astype(float).copy()
    public_goods = run.scenario.get("world", {}).get("kind") == "public_goods"
    learners = learners_rate(run)
    if learners is not None:
        frame[LEARNERS_RATE] = learners.reindex(frame.index).to_numpy(dtype=float)
    if public_goods and "utilitarian_welfare" in frame:
        outlay = outlay_per_episode(run)
        if outlay is not None:
            frame[OUTLAY] = outlay.reindex(frame.index).to_numpy(dtype=float)
            frame[NET_WELFARE] = frame["utilitarian_welfare"] - cost * frame[OUTLAY]
    return frame


def _stored(run: RunData) -> dict[str, dict[str, float]]:
    """The run's summary.json intervals (over its episodes), cut to each measure's range."""
    out = {}
    for name, s in run.summary.get("metrics", {}).items():
        if isinstance(s, dict) and "mean" in s:
            low, high = clip(float(s["ci_low"]), float(s["ci_high"]), _bounds(name))
            out[name] = {
                "mean": float(s["mean"]), "ci_low": low, "ci_high": high,
                "std": float(s.get("std", 0.0)), "n": int(s.get("n", 0)),
            }  # fmt: skip
    return out


def _run_estimates(run: RunData, cost: float, level: float) -> dict[str, dict[str, float]]:
    """measure -> the run's interval over its evaluation episodes (mean, ci_low, ...)."""
    frame = per_episode(run, cost)
    out = _stored(run) if frame.empty or level == LEVEL else {}
    for name in frame.columns:
        if name in out and level == LEVEL:
            continue
        values = frame[name].to_numpy(dtype=float)
        out[name] = t_interval(values[np.isfinite(values)], level, _bounds(name)).as_dict()
    return out


#: A planner objective's name -> the measure of the table that computes it for every rule.
OBJECTIVE_MEASURES = {
    "equality_times_productivity": "equality_times_productivity",
    "utilitarian": "utilitarian_welfare",
    "nash": "nash_welfare",
    "rawls": "rawls_welfare",
    "contribution_rate": "contribution_rate",
    "net_welfare": NET_WELFARE,
}


def objective_label(objective: str) -> str:
    """A planner objective in words: ``net welfare``, ``equality x productivity``."""
    measure = OBJECTIVE_MEASURES.get(objective)
    return measure_words(measure)[0] if measure else objective.replace("_", " ")


def rules_verdict(
    frame: pd.DataFrame, rules: Sequence[Rule], yardsticks: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """The stress test's verdict (:func:`coopsim.analysis.stress.verdict`) on each rule's own
    objective, for the rules of ``rules`` the stress test covered, in their order and by their
    labels, with ``objective`` (the objective's words) after ``rule`` and the worst population
    named by labels too (:func:`coopsim.analysis.stress.population_words`). It lives here, with
    the rules, so that the stress analysis needs nothing from this module.

    The one verdict the brief, the app's Stress test tab and its rules table all read, so a
    rule's worst case is one number wherever it is shown. ``yardsticks``: the stress test's
    rule name -> its yardstick (:func:`coopsim.analysis.stress.rule_yardsticks`)."""
    from coopsim.analysis.stress import population_words, stress_labels, verdict

    labels = stress_labels(rules, frame)
    table = verdict(frame[frame["rule"].isin(labels)], dict(yardsticks or {}))
    table["worst_population"] = [population_words(p, labels) for p in table["worst_population"]]
    table["rule"] = table["rule"].map(labels)
    own = {r.label: objective_label(r.own_objective) for r in rules}
    table.insert(1, "objective", table["rule"].map(own))
    order = [r.label for r in rules]
    table = table.sort_values("rule", key=lambda s: s.map(order.index), kind="stable")
    return table.reset_index(drop=True)


def measure_words(name: str) -> tuple[str, str]:
    """(label, unit) of a measure of the table."""
    if name in DERIVED:
        return DERIVED[name]
    m = MEASURES[name]
    return RELABELLED.get(name, m.label), m.unit


def rules_table(
    runs: Sequence[RunData],
    metrics: Sequence[str] | None = None,
    *,
    level: float = LEVEL,
    cost: float | None = None,
    cells: Mapping[str, str] | None = None,
    stress: str | os.PathLike | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per rule and measure: mean, interval, the units it is over and how many.

    Columns: ``rule`` (the label), ``measure``, ``label`` and ``unit`` (the measure's words),
    ``mean``, ``ci_low``, ``ci_high``, ``std``, ``n`` (units counted), ``units`` (``training
    seeds``, or ``evaluation episodes`` for a rule run at one seed), ``seeds`` (runs),
    ``trained_for`` (the objective a planner learned the rule for; empty where none did) and
    ``scenario``. ``cost``: the sponsor's cost per unit for net welfare (default: see
    :func:`sponsor_cost`); it is kept in ``table.attrs["sponsor_cost"]``.

    The ``objective`` rows are each rule's own scenario's objective (its label names which): a
    measure to rank on only where every rule has the same one.

    ``cells``: runs grouped by the sweep cell they ran in (:func:`group_rules`). ``stress``: a
    ``coopsim stress`` folder (or its ``stress.parquet`` as a frame); it adds ``worst_case``
    and ``worst_population``, each rule's worst mean of the measure over the populations it
    never trained with (:func:`coopsim.analysis.stress.verdict`), and
    ``stress_in_distribution``, the measure's mean against the rule's own learners in the
    stress test, empty for a rule or measure the stress test did not cover. Why beside the
    mean: a rule tuned to its own learners can rank first in-distribution and last against
    agents it never met. Why the stress test's in-distribution too: ``mean`` is over the rule's
    own evaluation episodes, the worst case over the stress test's, so the worst case is
    compared with the in-distribution value from the same stress test.
    """
    rules = group_rules(list(runs), cells)
    cost = sponsor_cost(rules) if cost is None else float(cost)
    rows = []
    for rule in rules:
        estimates = [_run_estimates(run, cost, level) for run in rule.runs]
        present = [m for m in estimates[0] if all(m in e for e in estimates[1:])]
        order = [*MEASURES, *DERIVED]
        names = sorted(present, key=lambda m: order.index(m) if m in order else len(order))
        names = [m for m in names if m in order]
        if metrics is not None:
            names = [m for m in metrics if m in present]
        for name in names:
            if len(estimates) > 1:  # the runs' means are the units
                means = np.array([e[name]["mean"] for e in estimates])
                stats = t_interval(means[np.isfinite(means)], level, _bounds(name)).as_dict()
            else:
                stats = dict(estimates[0][name])
            label, unit = measure_words(name)
            if name == "objective":
                label = f"objective ({objective_label(rule.own_objective)})"
            rows.append(
                {
                    "rule": rule.label,
                    "measure": name,
                    "label": label,
                    "unit": unit,
                    **{k: stats[k] for k in ("mean", "ci_low", "ci_high", "std", "n")},
                    "units": rule.units,
                    "seeds": len(rule.runs),
                    "trained_for": rule.objective or "",
                    "scenario": ", ".join(rule.scenarios),
                }
            )
    columns = [
        "rule", "measure", "label", "unit", "mean", "ci_low", "ci_high", "std", "n", "units",
        "seeds", "trained_for", "scenario",
    ]  # fmt: skip
    table = pd.DataFrame(rows, columns=columns)
    if stress is not None:
        table = _with_worst_case(table, rules, stress_frame(stress))
    table.attrs["sponsor_cost"] = cost
    return table


def stress_frame(stress: str | os.PathLike | pd.DataFrame) -> pd.DataFrame:
    """A stress test's table: the frame itself, or ``DIR/stress.parquet`` read (a clear error
    naming the folder where it has none)."""
    if isinstance(stress, pd.DataFrame):
        return stress
    from coopsim.stress.driver import STRESS

    path = Path(stress) / STRESS
    if not path.is_file():
        raise FileNotFoundError(f"{stress}: not a coopsim stress folder (no {STRESS})")
    return pd.read_parquet(path)


def _with_worst_case(table: pd.DataFrame, rules: Sequence[Rule], frame: pd.DataFrame):
    """``table`` with ``worst_case`` and ``worst_population`` columns from a stress frame.

    The stress test names a rule by its scenario; a rule of the table is matched by
    :func:`coopsim.analysis.stress.stress_labels`, and the populations trained under a rule
    are named by its label (the verdict the brief and the app show, measure by measure)."""
    from coopsim.analysis.stress import population_words, stress_labels, verdict

    labels = stress_labels(rules, frame)
    worst: dict[tuple[str, str], tuple[float, str, float]] = {}
    for measure in set(table["measure"]) & set(frame["measure"]):
        for row in verdict(frame[frame["rule"].isin(labels)], measure=measure).itertuples():
            words = population_words(str(row.worst_population), labels)
            worst[(labels[row.rule], measure)] = (
                float(row.worst_case),
                words,
                float(row.in_distribution),
            )
    empty = (np.nan, "", np.nan)
    found = [worst.get((r, m), empty) for r, m in zip(table["rule"], table["measure"])]
    table = table.copy()
    table["worst_case"] = [f[0] for f in found]
    table["worst_population"] = [f[1] for f in found]
    table["stress_in_distribution"] = [f[2] for f in found]
    return table


#: The columns a stress test adds to :func:`rules_table`, kept by :func:`wide` beside each
#: measure: the worst case is read against the stress test's own in-distribution value.
STRESS_COLUMNS = ("worst_case", "worst_population", "stress_in_distribution")


def wide(table: pd.DataFrame) -> pd.DataFrame:
    """A :func:`rules_table` as one row per rule, ``<measure>``, ``<measure>_ci_low`` ... columns.

    A table with a stress test's columns keeps them too (``<measure>_worst_case``,
    ``<measure>_worst_population``, ``<measure>_stress_in_distribution``): a worst case without
    the in-distribution value of the same stress test beside it would be read against ``mean``,
    which is over other episodes."""
    parts = ("mean", "ci_low", "ci_high", "std", "n", *(c for c in STRESS_COLUMNS if c in table))
    rows: dict[str, dict[str, Any]] = {}
    for r in table.itertuples(index=False):
        row = rows.setdefault(r.rule, {"rule": r.rule, "seeds": r.seeds, "units": r.units})
        for part in parts:
            row[r.measure if part == "mean" else f"{r.measure}_{part}"] = getattr(r, part)
    return pd.DataFrame(list(rows.values()))


def estimate_text(
    mean: float, low: float, high: float, unit: str = "", compact: bool = False
) -> str:
    """``mean [low, high]`` to the interval's precision; shares (a unit starting ``share``) as
    percentages; a zero-width interval as ``mean (no spread)``. ``compact``: no more digits
    than give the mean 3 significant ones (a very narrow interval would ask for more)."""
    from coopsim.report import numbers

    share = unit.startswith("share")
    scale = 100.0 if share else 1.0
    if not np.isfinite(mean):
        return ""
    m, lo, hi = scale * mean, scale * low, scale * high
    places = numbers.decimals(m, lo, hi) if high > low else numbers.decimals(m)
    if compact:
        places = min(places, numbers.decimals(m))
    pct = "%" if share else ""
    if not high > low:
        return f"{numbers.number(m, places)}{pct} (no spread)"
    shown = [numbers.number(v, places) for v in (m, lo, hi)]
    return f"{shown[0]}{pct} [{shown[1]}, {shown[2]}]"


def format_rules(table: pd.DataFrame, measures: Sequence[str] | None = None) -> str:
    """A :func:`rules_table` as text: one block per measure, one line per rule."""
    if table.empty:
        return "no measures in common"
    names = list(dict.fromkeys(table["measure"])) if measures is None else list(measures)
    width = max(len(r) for r in table["rule"])
    lines = []
    units = sorted(set(table["units"]))
    level = f"{LEVEL:.0%}"
    lines.append(
        f"mean [{level} interval] per rule, over its {' or '.join(units)}; "
        "intervals cut to each measure's range"
    )
    cost = table.attrs.get("sponsor_cost")
    for name in names:
        rows = table[table["measure"] == name]
        if rows.empty:
            continue
        first = rows.iloc[0]
        lines.append("")
        # rules trained for different objectives: one block, each line naming its own
        mixed = rows["label"].nunique() > 1
        head = f"{first['label']} ({first['unit']})"
        if mixed:
            head = f"{name}: each rule's own, not comparable across lines (named on each line)"
        if name == NET_WELFARE and cost is not None:
            head += f", each unit of outlay costing {_num(cost)}"
        lines.append(head)
        for r in rows.itertuples(index=False):
            text = estimate_text(r.mean, r.ci_low, r.ci_high, r.unit)
            own = f"  {r.label}" if mixed else ""
            lines.append(f"  {r.rule:<{width}}  {text}  n = {r.n} {r.units}{own}")
    return "\n".join(lines)


#: The column a pooled rule's episodes carry: which of the rule's runs (training seeds) each
#: episode came from, 0 to seeds - 1, so a figure can take its band over the seeds.
SEED_UNIT = "training_run"


def pooled_run(rule: Rule) -> RunData:
    """One rule's runs as one run for figures: its seeds' evaluation episodes side by side
    (renumbered, each tagged with its run in :data:`SEED_UNIT`), named by the rule's label, so
    a figure draws one series per rule instead of one per run (fifteen shades nobody can tell
    apart).

    Its summary's measures are the tables' (:func:`rules_table`): the mean over the seeds of
    each seed's mean, with its interval over the seeds, so a figure's point is the table's
    cell; figures that draw episodes take their bands over the seeds through
    :data:`SEED_UNIT`. A rule of one run is that run, renamed (its intervals over episodes,
    as the tables')."""
    import dataclasses

    first = rule.runs[0]
    summary = {**first.summary, "scenario": rule.label}
    if len(rule.runs) == 1:
        return dataclasses.replace(first, summary=summary)
    summary["seed"] = ", ".join(str(r.summary.get("seed")) for r in rule.runs)
    summary["metrics"] = _over_seeds([r.summary.get("metrics", {}) for r in rule.runs])
    episodes, metrics, offset = [], [], 0
    for k, run in enumerate(rule.runs):
        eps = run.episodes.copy()
        count = int(eps["episode"].max()) + 1 if "episode" in eps and not eps.empty else 0
        if "episode" in eps:
            eps["episode"] = eps["episode"] + offset
        eps[SEED_UNIT] = k
        episodes.append(eps)
        if run.episode_metrics is not None:
            em = run.episode_metrics.copy()
            if "episode" in em:
                em["episode"] = em["episode"] + offset
            em[SEED_UNIT] = k
            metrics.append(em)
        offset += count
    return dataclasses.replace(
        first,
        summary=summary,
        episodes=pd.concat(episodes, ignore_index=True),
        episode_metrics=pd.concat(metrics, ignore_index=True)
        if len(metrics) == len(rule.runs)
        else None,
    )


def _over_seeds(each: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Runs' summary measures -> per measure they all have, the mean of their means with a
    t interval over the runs, cut to the measure's range (as :func:`rules_table` computes)."""
    out = {}
    for name in each[0]:
        stats = [m.get(name) for m in each]
        if not all(isinstance(s, dict) and "mean" in s for s in stats):
            continue
        means = np.array([float(s["mean"]) for s in stats])  # a seed without a value: NaN,
        out[name] = t_interval(means, LEVEL, _bounds(name)).as_dict()  # and figures say so
    return out
