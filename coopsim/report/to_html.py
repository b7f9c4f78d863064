"""The report as one self-contained HTML page, for the screen and, through WeasyPrint, for print.

Every figure is embedded as a base64 PNG and the style sheet is inline (no external assets, so
the file can be mailed or archived as it is). The ``@page`` and ``@media print`` rules lay the
same page out on A4 for :mod:`coopsim.report.to_pdf`; a browser printing it gets the same.
"""

from __future__ import annotations

import base64
import html
import io
import re

from matplotlib.figure import Figure

from coopsim.report.model import FigureBlock, Paragraph, Preformatted, Report, Table
from coopsim.report.table_layout import (
    cell_text,
    column_groups,
    number_parts,
    numeric_columns,
    word_pieces,
)

#: Resolution of embedded figures (dots per inch).
DPI = 110

#: Text cells longer than this make their column a prose column with a minimum width.
PROSE_CHARS = 40

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } .subtitle { color: #555; margin-top: 0; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
pre { background: #f6f8fa; padding: 0.8em; font-size: 0.85em; }
table { border-collapse: collapse; margin: 0.5em 0 1.2em; font-size: 0.88em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; vertical-align: bottom; } .num { text-align: right; }
td.prose { min-width: 18em; }
.ci { white-space: nowrap; }
tbody tr:nth-child(even) { background: #f8f9fb; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.3em; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9em; }
nav a { margin-right: 1em; }
@media screen { pre, .table-scroll { overflow-x: auto; } }
@page { size: A4; margin: 16mm 16mm 18mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-size: 7.5pt;
                         color: #666; } }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 8.5pt; line-height: 1.35; }
  nav { display: none; }
  h1 { font-size: 17pt; } h2 { font-size: 13pt; margin-top: 1.4em; break-after: avoid; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 7pt; padding: 0.5em 0.7em; }
  p.pre-caption { break-after: avoid; margin-bottom: 0.3em; }
  table { font-size: 7.5pt; margin: 0.4em 0 1em; }
  th, td { padding: 0.2em 0.45em; overflow-wrap: break-word; }
  td.prose { min-width: 12em; }
  tr { break-inside: avoid; }
  figure { margin: 0.6em 0 1.2em; break-inside: avoid; }
  figure img { max-height: 225mm; }
  figcaption { font-size: 8pt; }
}
"""


def figure_png(fig: Figure, dpi: int = DPI) -> bytes:
    """PNG bytes of ``fig``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _text_html(text: str) -> str:
    """Cell text whose long words may break after a separator (``<wbr>``) in a narrow column,
    rather than anywhere or not at all."""
    return "".join(
        "<wbr>".join(html.escape(p) for p in word_pieces(w)) for w in re.split(r"(\s+)", text)
    )


def _number_html(text: str) -> str:
    """A number, with its interval (if any) kept whole but free to go beneath it."""
    mean, interval = number_parts(text)
    if not interval:
        return html.escape(text)
    return f'{html.escape(mean)} <span class="ci">{html.escape(interval)}</span>'


def _html_table(block: Table) -> str:
    """A table whose numbers are right-aligned and whose text reads from the left.

    Right-aligning every column (as a spreadsheet does numbers) left descriptions ragged on
    the left; only numeric columns get the ``num`` class. A table too wide for a page is
    printed as column groups (see :func:`~coopsim.report.table_layout.column_groups`).
    """
    frame = block.frame
    header = [str(c) for c in frame.columns]
    numeric = numeric_columns(frame, block.digits)
    cells = [[cell_text(v, block.digits) for v in row] for row in frame.itertuples(index=False)]
    # Columns of sentences (a training budget in words) keep a readable width; in a narrow
    # window the table scrolls sideways instead of squeezing them a word per line.
    prose = [
        not num and any(len(row[j]) > PROSE_CHARS for row in cells) for j, num in enumerate(numeric)
    ]

    def cls(num: bool, long: bool = False) -> str:
        return ' class="num"' if num else ' class="prose"' if long else ""

    def cell(text: str, num: bool, long: bool) -> str:
        return f"<td{cls(num, long)}>{_number_html(text) if num else _text_html(text)}</td>"

    groups = column_groups(header, cells, numeric)
    parts = []
    for g, columns in enumerate(groups):
        head = "".join(f"<th{cls(numeric[j])}>{_text_html(header[j])}</th>" for j in columns)
        body = "".join(
            "<tr>" + "".join(cell(row[j], numeric[j], prose[j]) for j in columns) + "</tr>"
            for row in cells
        )
        caption = block.caption
        if caption and len(groups) > 1:
            caption += f" (columns {g + 1} of {len(groups)})"
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        parts.append(
            f'<div class="table-scroll"><table>{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>"
        )
    return "\n".join(parts)


def _block_html(block: Paragraph | Preformatted | Table | FigureBlock) -> str:
    if isinstance(block, Paragraph):
        return f"<p>{html.escape(block.text)}</p>"
    if isinstance(block, Preformatted):
        caption = (
            f'<p class="pre-caption"><strong>{html.escape(block.caption)}</strong></p>'
            if block.caption
            else ""
        )
        return f"{caption}<pre>{html.escape(block.text)}</pre>"
    if isinstance(block, Table):
        return _html_table(block)
    data = base64.b64encode(figure_png(block.figure)).decode("ascii")
    return (
        f'<figure id="{html.escape(block.key)}">'
        f'<img alt="{html.escape(block.caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(block.caption)}</figcaption></figure>"
    )


def render_html(report: Report) -> str:
    """The report as one HTML document; figures are inline ``data:`` PNGs."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(report.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(report.title)}</h1>",
        f'<p class="subtitle">{html.escape(report.subtitle)}</p>',
        "<nav>"
        + "".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in report.sections)
        + "</nav>",
    ]
    for section in report.sections:
        parts.append(f'<section id="{section.key}"><h2>{html.escape(section.title)}</h2>')
        parts += [_block_html(block) for block in section.blocks]
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
