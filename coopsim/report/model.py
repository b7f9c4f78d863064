"""What a report says, independent of how it is rendered.

A report is a title, a subtitle and a list of sections, each a list of blocks: paragraphs,
preformatted text, tables and figures. The HTML renderer turns these into one page and the PDF
is typeset from that page, so both formats always hold the same content.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from matplotlib.figure import Figure


@dataclass
class Paragraph:
    text: str


@dataclass
class Preformatted:
    text: str
    caption: str = ""


@dataclass
class Table:
    frame: pd.DataFrame
    caption: str = ""
    # Columns whose numbers tests and readers compare with summary.json, shown with 4 digits.
    digits: int = 4


@dataclass
class FigureBlock:
    key: str  # stable identifier: the HTML element id and what tests look for
    figure: Figure
    caption: str


Block = Paragraph | Preformatted | Table | FigureBlock


@dataclass
class Section:
    key: str  # HTML id of the section
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Report:
    title: str
    subtitle: str
    sections: list[Section]
    # The findings as data (written beside the brief as <name>.findings.json), where computed.
    data: dict | None = None

    def figures(self) -> list[FigureBlock]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, FigureBlock)]
