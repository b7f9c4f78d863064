"""A report's Sweep section: what a sweep folder found, led by its findings.

``coopsim report SWEEP_DIR`` hands the report a sweep folder instead of run directories.
:func:`split_sweeps` turns each sweep folder among a report's inputs into a section (the
findings: the best cell and each field's effect with paired intervals over seeds; the cells'
means with their intervals; the sweep figure) and, for the rest of the report, the run
directories of the best cell, one per seed, so the usual sections describe the winner without
drawing every cell's runs. Run directories among the inputs pass through unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from coopsim.analysis.sweeps import DEFAULT_METRIC, best_cell, cell_means, fields_of, findings
from coopsim.figures.sweep import sweep_figure
from coopsim.record import SWEEP_TABLE, load_sweep
from coopsim.report.model import FigureBlock, Paragraph, Section, Table


def is_sweep(path: Any) -> bool:
    return isinstance(path, (str, os.PathLike)) and (Path(path) / SWEEP_TABLE).is_file()


def sweep_section(table: pd.DataFrame, metric: str = DEFAULT_METRIC) -> Section:
    """Findings, the cells' means over seeds, and the figure, for one sweep table."""
    fields = fields_of(table)
    name = Path(table.attrs.get("path", "sweep")).name
    seeds = sorted(table["seed"].unique())
    section = Section(f"sweep-{name}", f"Sweep: {name}")
    section.blocks.append(
        Paragraph(
            f"{len(table)} runs: {len(table) // max(len(seeds), 1)} cells over "
            f"{', '.join(fields)}, each at {len(seeds)} seeds. Intervals are 95% Student-t "
            "intervals over seeds; an effect compares a field's highest value with its lowest "
            "seed by seed."
        )
    )
    section.blocks.extend(Paragraph(line) for line in findings(table, metric))
    means = cell_means(table, metric).rename(columns={"n": "seeds"})
    section.blocks.append(Table(means, caption=f"{metric}: mean over seeds per cell, 95% CI"))
    section.blocks.append(
        FigureBlock(f"sweep-{name}-figure", sweep_figure(table, metric), f"{metric} over the sweep")
    )
    return section


def best_runs(folder: Path, table: pd.DataFrame, metric: str = DEFAULT_METRIC) -> list[Path]:
    """The run directories of the sweep's best cell, one per seed."""
    best = best_cell(table, metric)
    fields = fields_of(table)
    ok = table[table["status"] == "ok"]
    mask = pd.Series(True, index=ok.index)
    for f in fields:
        mask &= ok[f] == best[f]
    return [folder / run for run in ok[mask]["run"]]


def split_sweeps(inputs: Iterable[Any]) -> tuple[list[Any], list[Section]]:
    """Report inputs -> (runs for the usual sections, a Sweep section per sweep folder)."""
    runs: list[Any] = []
    sections: list[Section] = []
    for item in inputs:
        if not is_sweep(item):
            runs.append(item)
            continue
        table = load_sweep(item)
        sections.append(sweep_section(table))
        runs.extend(best_runs(Path(item), table))
    return runs, sections
