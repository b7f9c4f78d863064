"""A report's Social dilemma section: the Schelling diagram of every commons rule set reported.

Whether the commons is a dilemma at all is a property of the world and its rules, not of what
learners found, so each distinct rule set (world and mechanisms) among the runs gets one
diagram with scripted restrained and greedy harvesters (:mod:`coopsim.analysis.schelling`),
drawn on the run's own world (its size and episode length). Diagrams are computed when the
report is built, with few episodes per group size to keep a report quick; intervals are over
those episodes. Reports without a commons run have no such section.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from coopsim import scenario as sc
from coopsim.analysis.schelling import SchellingDiagram, schelling, schelling_figure
from coopsim.record import RunData
from coopsim.report.model import FigureBlock, Paragraph, Section
from coopsim.schema import ConfigError

#: Episodes per group size: a report-sized budget (``coopsim.analysis.schelling`` takes more).
EPISODES = 4
#: Most rule sets diagrammed in one report.
MOST = 4

_drawn: dict[str, SchellingDiagram] = {}  # one diagram per rule set, shared by runs and reports


def schelling_sections(runs: Sequence[RunData], labels: Sequence[str]) -> list[Section]:
    """The section, or none when no run is on a commons."""
    rule_sets: dict[str, list[str]] = {}
    scenarios: dict[str, sc.Scenario] = {}
    for run, label in zip(runs, labels):
        if run.scenario.get("world", {}).get("kind") != "commons":
            continue
        key = json.dumps({k: run.scenario.get(k) for k in ("world", "mechanisms")}, sort_keys=True)
        try:
            scenarios.setdefault(key, sc.from_dict(run.scenario))
        except ConfigError:
            continue  # a run whose scenario no longer loads: the report says so elsewhere
        rule_sets.setdefault(key, []).append(label)
    if not rule_sets:
        return []
    blocks: list = [
        Paragraph(
            "Is the commons a social dilemma under these rules? The payoff of one restrained "
            "harvester (a cooperator) and of one greedy harvester (a defector), both scripted, "
            "against how many of the others cooperate (Schelling diagrams, as in Perolat et al. "
            f"2017 and Hughes et al. 2018); bands are 95% intervals over {EPISODES} episodes per "
            "group size. A dilemma: everyone cooperating beats everyone defecting, yet "
            "defecting pays an individual for some number of cooperating others."
        )
    ]
    for key, names in list(rule_sets.items())[:MOST]:
        if key not in _drawn:
            _drawn[key] = schelling(scenarios[key], episodes=EPISODES)
        diagram = _drawn[key]
        blocks.append(
            FigureBlock(
                f"fig-schelling-{len(blocks)}",
                schelling_figure(diagram),
                f"{', '.join(names)}: {_verdict(diagram)}",
            )
        )
    return [Section("schelling", "Social dilemma", blocks)]


def _verdict(diagram: SchellingDiagram) -> str:
    c = diagram.criteria()
    if not c["social_dilemma"]:
        return "no social dilemma under these rules."
    why = " and ".join(name for name in ("fear", "greed") if c[name])
    return f"a social dilemma under these rules (through {why})."
