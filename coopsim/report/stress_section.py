"""A report's "Stress test" section: how each rule held up against agents it never met.

``coopsim report STRESS_DIR`` hands the report a stress-test folder (``coopsim stress``'s
``--out``); :func:`split_stress` turns it into this section (the verdict per rule, then every
population's mean of the objective with its interval) and passes the run directories it
stressed on to the usual sections.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from coopsim.analysis.stress import exploitability_words, rule_yardsticks, verdict
from coopsim.report.model import Paragraph, Section, Table
from coopsim.stress.driver import MANIFEST, STRESS


def is_stress(path: Any) -> bool:
    return isinstance(path, (str, os.PathLike)) and (Path(path) / STRESS).is_file()


def _pct(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{100 * value:.0f}%"


def stress_section(
    frame: pd.DataFrame, yardsticks: dict[str, float] | None = None, measure: str = "objective"
) -> Section:
    """The verdict per rule in a sentence each and a table, then the populations' means."""
    table = verdict(frame, yardsticks, measure)
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
    for row in table.itertuples():
        words = (
            f"{row.rule}: {row.measure} {row.in_distribution:.4g} in-distribution "
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
    section.blocks.append(Table(table, "Verdict per rule"))
    shown = frame[frame["measure"] == measure][
        ["rule", "population", "kind", "mean", "ci_low", "ci_high", "n", "over"]
    ]
    section.blocks.append(
        Table(shown.reset_index(drop=True), f"{measure} per population (95% t intervals)")
    )
    return section


def split_stress(inputs: Iterable[Any]) -> tuple[list[Any], list[Section]]:
    """Report inputs -> (runs for the usual sections, a Stress test section per stress folder,
    followed by the run directories it stressed)."""
    runs: list[Any] = []
    sections: list[Section] = []
    for item in inputs:
        if not is_stress(item):
            runs.append(item)
            continue
        section, present = _stress_folder(item)
        sections.append(section)
        runs.extend(present)
    return runs, sections


def stress_sections(folders: Iterable[Any]) -> list[Section]:
    """A Stress test section per stress folder, without its runs (a report on runs chosen
    elsewhere, with the stress test that covers them)."""
    return [_stress_folder(folder)[0] for folder in folders]


def _stress_folder(folder: Any) -> tuple[Section, list[str]]:
    """A stress folder's section and the run directories it stressed that are still there."""
    frame = pd.read_parquet(Path(folder) / STRESS)
    stressed = json.loads((Path(folder) / MANIFEST).read_text()).get("runs", [])
    present = [r for r in stressed if Path(r).is_dir()]
    return stress_section(frame, rule_yardsticks(present)), present
