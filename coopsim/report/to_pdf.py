"""The report as a PDF: the HTML page typeset on A4 by WeasyPrint.

Typesetting the very page :func:`~coopsim.report.to_html.render_html` writes keeps the two
formats' content identical, and leaves line breaking, table layout, page breaks and repeated
table headers to a maintained typesetter. Nothing is fetched: the page's only resources are
its inline ``data:`` figures, and any other URL fails the render rather than reach a network
or a local file.
"""

from __future__ import annotations

import os
from typing import IO

from coopsim.report.model import Report
from coopsim.report.to_html import render_html

#: What to do when WeasyPrint's system libraries are missing (HTML reports need none).
SYSTEM_LIBRARIES = (
    "PDF reports need the Pango and HarfBuzz libraries (Debian: apt-get install "
    "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0, or run scripts/system-deps.sh); "
    "an .html report needs neither"
)


def render_pdf(report: Report, path: str | os.PathLike | IO[bytes]) -> None:
    """Write the report as a PDF: the same sections, tables set as tables, figures as images.

    ``path`` is a file name or a file open for binary writing (an atomic write's, say)."""
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except OSError as err:  # WeasyPrint loads Pango when imported
        raise RuntimeError(f"{SYSTEM_LIBRARIES}: {err}") from err

    fetcher = URLFetcher(allowed_protocols=("data",), fail_on_errors=True)
    HTML(string=render_html(report), url_fetcher=fetcher).write_pdf(
        os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
    )
