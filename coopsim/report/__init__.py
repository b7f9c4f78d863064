"""Scenario reports: one self-contained HTML file (or PDF) describing and comparing runs.

A report reads as a policy brief, with the same sections in both formats: the title and the
question asked; a summary of findings as sentences computed from the runs, with intervals;
the figures that have data; a table comparing every measure; the method (scenarios,
mechanisms, training budget, seeds, versions and the commands that reproduce each run); and
the resolved scenarios in an appendix.

The modules, one job each:

- :mod:`~coopsim.report.model`: the content as sections of paragraphs, preformatted text,
  tables and figures;
- :mod:`~coopsim.report.conditions`: runs grouped by their rules, with estimates under the
  house interval policy;
- :mod:`~coopsim.report.findings`: the question and the findings as computed sentences;
- :mod:`~coopsim.report.numbers`: numbers rounded to their interval's precision;
- :mod:`~coopsim.report.content`: the whole content built from what runs wrote;
- :mod:`~coopsim.report.table_layout` and :mod:`~coopsim.report.to_html`: one HTML page with
  every figure embedded (no external assets, nothing fetched);
- :mod:`~coopsim.report.to_pdf`: the same page typeset on A4 by WeasyPrint;
- :mod:`~coopsim.report.build`: :func:`build_report`, the file written atomically.
"""

from coopsim.report.build import build_report
from coopsim.report.content import (
    build_content,
    comparison_table,
    mechanism_rows,
    method_table,
    reproduce_command,
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
    "Block",
    "FigureBlock",
    "Paragraph",
    "Preformatted",
    "Report",
    "Section",
    "Table",
    "build_content",
    "build_report",
    "comparison_table",
    "figure_png",
    "mechanism_rows",
    "method_table",
    "render_html",
    "render_pdf",
    "reproduce_command",
]
