"""Scenario reports: one self-contained HTML file (or PDF) describing and comparing runs.

A report has the same sections in both formats: the title; the scenario in words and as its
resolved config; the mechanisms; the method (training budget, evaluation episodes, seeds,
library versions and the command that reproduces each run); a results table with confidence
intervals; and figures (metrics over training, Lorenz curves, wealth and outcomes per agent,
contributions, mechanism diagnostics, and the comparison across runs).

The modules, one job each:

- :mod:`~coopsim.report.model`: the content as sections of paragraphs, preformatted text,
  tables and figures;
- :mod:`~coopsim.report.content`: that content built from what runs wrote;
- :mod:`~coopsim.report.table_layout` and :mod:`~coopsim.report.to_html`: one HTML page with
  every figure embedded (no external assets, nothing fetched);
- :mod:`~coopsim.report.to_pdf`: the same page typeset on A4 by WeasyPrint;
- :mod:`~coopsim.report.build`: :func:`build_report`, the file written atomically.
"""

from coopsim.report.build import build_report
from coopsim.report.content import (
    RESULT_METRICS,
    build_content,
    mechanism_rows,
    method_table,
    reproduce_command,
    results_table,
)
from coopsim.report.model import (
    Block,
    FigureBlock,
    Paragraph,
    Preformatted,
    Report,
    Section,
    Table,
)
from coopsim.report.to_html import DPI, figure_png, render_html
from coopsim.report.to_pdf import render_pdf

__all__ = [
    "DPI",
    "RESULT_METRICS",
    "Block",
    "FigureBlock",
    "Paragraph",
    "Preformatted",
    "Report",
    "Section",
    "Table",
    "build_content",
    "build_report",
    "figure_png",
    "mechanism_rows",
    "method_table",
    "render_html",
    "render_pdf",
    "reproduce_command",
    "results_table",
]
