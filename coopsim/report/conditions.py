"""The conditions a report compares, each with its estimates and the units they rest on.

A condition is one rule (:mod:`coopsim.analysis.rules`); the runs of it that a report is given
are its training or evaluation seeds. Estimates follow the one interval policy
(:mod:`coopsim.intervals`): a condition of one run takes the interval its ``summary.json``
stores (units: evaluation episodes); a condition of several runs takes the Student-t interval
over the runs' means (units: seeds), which covers the luck of training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from coopsim.intervals import Interval, clip, t_interval
from coopsim.measures import bounds_of
from coopsim.record import RunData

#: How a condition without mechanisms is named in sentences.
NO_MECHANISM = "no mechanism"


@dataclass(frozen=True)
class Condition:
    """One scenario's runs, compared as one set of rules."""

    label: str  # the rule's label (coopsim.analysis.rules.rule_labels)
    runs: tuple[RunData, ...]

    @property
    def rules(self) -> str:
        """The rules in words: the label every table of rules gives them."""
        return self.label

    @property
    def bare(self) -> bool:
        return self.label == NO_MECHANISM

    @property
    def units(self) -> str:
        """What the intervals of this condition are over, in words."""
        if len(self.runs) > 1:
            return f"{len(self.runs)} seeds"
        episodes = self.runs[0].summary.get("episodes")
        return f"{episodes} evaluation episodes" if episodes is not None else "evaluation episodes"

    def metric(self, name: str) -> Interval | None:
        """The condition's estimate of measure ``name``; None where a run lacks it."""
        stats = [r.summary.get("metrics", {}).get(name) for r in self.runs]
        if any(s is None for s in stats):
            return None
        if len(stats) == 1:
            (s,) = stats
            # runs written before intervals were cut to a measure's range are cut here
            low, high = clip(float(s["ci_low"]), float(s["ci_high"]), bounds_of(name))
            return Interval(
                float(s["mean"]),
                low,
                high,
                float(s.get("std", float("nan"))),
                int(s.get("n", 0)),
            )
        means = np.array([float(s["mean"]) for s in stats])
        return t_interval(means, bounds=bounds_of(name))  # over seeds

    def per_unit(self, per_episode: pd.Series) -> Interval:
        """An estimate from values per (run, episode): over episodes, or over runs' means.

        ``per_episode`` is indexed by (run, episode).
        """
        if len(self.runs) == 1:
            return t_interval(per_episode.to_numpy())  # over episodes
        return t_interval(per_episode.groupby(level=0).mean().to_numpy())  # over runs


def conditions(runs: Sequence[RunData]) -> list[Condition]:
    """Runs grouped by rule (:func:`coopsim.analysis.rules.group_rules`), in the order and
    with the labels every table of rules has."""
    from coopsim.analysis.rules import group_rules

    return [Condition(rule.label, rule.runs) for rule in group_rules(list(runs))]


def baseline(found: Sequence[Condition]) -> Condition:
    """What the others are measured against: the bare game if it is there, else the first."""
    return next((c for c in found if c.bare), found[0])


def final_wealth(condition: Condition) -> pd.DataFrame:
    """Each agent's wealth at the end of each evaluation episode, with its group.

    Columns ``run, episode, agent, group, wealth``. An agent's group is its policy when the
    population mixes policies (``free_rider agents``), else its seat (``agent 2``): agents of one learning policy
    differ by seat (skill), and a reader asks who gained by seat.
    """
    frames = []
    for run in condition.runs:
        eps = run.episodes
        if eps.empty or not {"episode", "agent", "net"} <= set(eps.columns):
            continue
        keys = ["episode", "agent"] + (["policy"] if "policy" in eps else [])
        wealth = eps.groupby(keys, observed=True)["net"].sum().reset_index(name="wealth")
        wealth.insert(0, "run", run.name)
        frames.append(wealth)
    if not frames:
        return pd.DataFrame(columns=["run", "episode", "agent", "group", "wealth"])
    table = pd.concat(frames, ignore_index=True)
    mixed = "policy" in table and table["policy"].astype(str).nunique() > 1
    seats = "agent " + table["agent"].astype(str)
    table["group"] = table["policy"].astype(str) + " agents" if mixed else seats
    return table


def group_wealth(condition: Condition) -> dict[str, Interval]:
    """Final wealth per agent of each group (mean over its agents), per episode -> estimate."""
    table = final_wealth(condition)
    out: dict[str, Interval] = {}
    for group, rows in table.groupby("group", sort=False):
        per_episode = rows.groupby(["run", "episode"])["wealth"].mean()  # over the group's agents
        out[str(group)] = condition.per_unit(per_episode)
    return out


def outside_money(condition: Condition) -> Interval | None:
    """Coins per episode the mechanisms brought in from outside (negative: taken out).

    The sum of every mechanism's transfers over agents and rounds: a sponsor's match comes in,
    burned fines and punishment go out, and a tax rebated in full nets to zero. None when the
    runs recorded no transfers.
    """
    parts = []
    for run in condition.runs:
        eps = run.episodes
        columns = [c for c in eps.columns if c.startswith("transfer_")]
        if not columns or "episode" not in eps:
            continue
        per_episode = eps[columns].sum(axis=1).groupby(eps["episode"]).sum()
        parts.append(pd.concat({run.name: per_episode}))
    if not parts:
        return None
    return condition.per_unit(pd.concat(parts))
