"""A report's "Stress test" section: how each rule held up against agents it never met.

``coopsim report STRESS_DIR`` hands the report a stress-test folder (``coopsim stress``'s
``--out``); :func:`split_stress` passes the run directories it stressed on to the usual
sections, and :func:`stress_sections` turns it into this section (the verdict per rule, then
every population's mean of the objective with its interval), naming each rule by the label the
rest of the brief gives it.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from coopsim.analysis.rules import rules_verdict
from coopsim.analysis.stress import (
    exploitability_words,
    population_words,
    rule_yardsticks,
    stress_labels,
    verdict,
    worst_above_home,
)
from coopsim.report.model import Paragraph, Section, Table
from coopsim.stress.driver import MANIFEST, STRESS

if TYPE_CHECKING:
    from coopsim.analysis.rules import Rule


def is_stress(path: Any) -> bool:
    return isinstance(path, (str, os.PathLike)) and (Path(path) / STRESS).is_file()


def _pct(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{100 * value:.0f}%"


def stress_section(
    frame: pd.DataFrame,
    yardsticks: dict[str, float] | None = None,
    measure: str = "objective",
    rules: Sequence[Rule] | None = None,
) -> Section:
    """The verdict per rule in a sentence each and a table, then the populations' means.

    ``rules``: the brief's rules (:func:`coopsim.analysis.rules.group_rules`). Given, the
    section keeps to the rules among them the stress test covered and names each by its label
    and its own objective, as the rest of the brief and the app's Compare page do
    (:func:`coopsim.analysis.rules.rules_verdict`); else rules go by the stress test's names
    and are measured on ``measure``."""
    if rules is None:
        labels = {str(r): str(r) for r in frame["rule"].unique()}
        table = verdict(frame, yardsticks, measure)
        table.insert(1, "objective", measure.replace("_", " "))
    else:
        labels = stress_labels(rules, frame)
        table = rules_verdict(frame, rules, yardsticks)
    section = Section("stress", "Stress test")
    section.blocks.append(
        Paragraph(
            "Each rule was played against populations it never trained with (other training "
            "seeds' learners, learners trained under other rules, scripted mixes) and against "
            "exploiters: seats handed to a learner trained against the frozen rule, started "
            "fresh or from the seats it replaced. The worst case and 10th percentile are over "
            "the unseen populations; exploitability is an exploiter's gain over the seats it "
            "replaced, counted only where its interval lies above zero. Shares are of the "
            "yardstick (the best static rule with agents at equilibrium), given only for "
            "populations of learners."
        )
    )
    if table.empty:  # a stress folder given beside runs of other rules
        section.blocks.append(Paragraph("This stress test covers none of the rules of this brief."))
        return section
    if table["objective"].nunique() > 1:
        section.blocks.append(
            Paragraph(
                "Each rule is measured on its own objective, and these differ: compare a "
                "rule's numbers with one another, not with another rule's."
            )
        )
    for row in table.itertuples():
        words = (
            f"{row.rule}: {row.objective} {row.in_distribution:.4g} in-distribution "
            f"({_pct(row.in_distribution_share)} of the yardstick)"
        )
        if row.populations:
            words += (
                f"; worst case {row.worst_case:.4g} against {row.worst_population} "
                f"({_pct(row.worst_case_share)}), 10th percentile {row.p10:.4g} over "
                f"{row.populations} unseen populations"
            )
        if row.exploiter:
            words += f"; {exploitability_words(row)}"
        section.blocks.append(Paragraph(words + "."))
    # a worst case above the in-distribution value reads as a bug unless the reader is told
    # the two are over different populations, each on episodes of its own
    for note in worst_above_home(frame, measure if rules is None else "objective", labels):
        section.blocks.append(Paragraph(note))
    section.blocks.append(Table(table.drop(columns="measure"), "Verdict per rule"))
    shown = frame[(frame["measure"] == measure) & frame["rule"].isin(labels)][
        ["rule", "population", "kind", "mean", "ci_low", "ci_high", "n", "over"]
    ].copy()
    shown["population"] = [population_words(str(p), labels) for p in shown["population"]]
    shown["rule"] = shown["rule"].map(labels)
    caption = "each rule's own objective" if rules is not None else measure
    section.blocks.append(
        Table(shown.reset_index(drop=True), f"{caption} per population (95% t intervals)")
    )
    return section


def split_stress(inputs: Iterable[Any]) -> tuple[list[Any], list[Any]]:
    """Report inputs -> (runs for the usual sections, followed by the run directories each
    stress folder stressed; the stress folders, for :func:`stress_sections`)."""
    runs: list[Any] = []
    folders: list[Any] = []
    for item in inputs:
        if not is_stress(item):
            runs.append(item)
            continue
        folders.append(item)
        runs.extend(_present(item))
    return runs, folders


def stress_sections(folders: Iterable[Any], rules: Sequence[Rule] | None = None) -> list[Section]:
    """A Stress test section per stress folder, on ``rules`` (the brief's: those the folder
    covers, by their labels) or every rule it stressed where ``rules`` is None."""
    sections = []
    for folder in folders:
        frame = pd.read_parquet(Path(folder) / STRESS)
        yardsticks = rule_yardsticks(_present(folder))
        sections.append(stress_section(frame, yardsticks, rules=rules))
    return sections


def _present(folder: Any) -> list[str]:
    """The run directories a stress folder stressed that are still there."""
    stressed = json.loads((Path(folder) / MANIFEST).read_text()).get("runs", [])
    return [r for r in stressed if Path(r).is_dir()]
