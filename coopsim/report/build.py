"""Writing a report to disk: the format from the file's suffix, atomic, never overwriting.

A report asked for by file name replaces that file in one step. A report written into a folder
(the app's "reports" folder, say) gets a fresh ``report-<time>.html`` name: two writers in the
same second, threads or processes, each claim their own name, because the finished file is
published with a hard link, which fails rather than replace a file that exists.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import IO

from coopsim.files import atomic_file, atomic_new_file, atomic_write_text
from coopsim.record import RunData
from coopsim.report.content import build_content
from coopsim.report.model import Report
from coopsim.report.to_html import render_html
from coopsim.report.to_pdf import render_pdf

#: Suffixes that name a report file; anything else is a folder to write a report into.
SUFFIXES = (".html", ".htm", ".pdf")


def build_report(
    runs: Iterable[RunData | str | os.PathLike],
    out: str | os.PathLike,
    rank_by: str | None = None,
) -> Path:
    """Write the report for ``runs`` to ``out`` and return the file's path.

    ``out`` ending in ``.html`` or ``.pdf`` picks the format and is replaced if it exists; any
    other ``out`` without a suffix is taken as a folder, in which a new ``report-<time>.html``
    (``report-<time>-2.html`` if that is taken, and so on) is written. Either way the file
    appears complete or not at all. Its findings, as data, are written beside it as
    ``<name>.findings.json`` (:func:`findings_path`), also in one step. ``rank_by``: see
    :func:`coopsim.report.content.build_content`.
    """
    out = Path(out)
    is_file = out.suffix.lower() in SUFFIXES
    if not is_file and out.suffix:
        raise ValueError(f"{out}: a report is written as .html or .pdf, not {out.suffix}")
    folder = out.parent if is_file else out
    folder.mkdir(parents=True, exist_ok=True)
    report = build_content(runs, rank_by)
    stem = f"report-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    name = out.name if is_file else f"{stem}.html"
    if is_file:
        with atomic_file(out, "wb") as fh:
            _render(report, fh, pdf=name.lower().endswith(".pdf"))
        final = out
    else:
        with atomic_new_file(folder / name, "wb") as new:
            _render(report, new.file, pdf=False)
        assert new.path is not None
        final = new.path
    if report.data is not None:
        write_findings(report.data, findings_path(final))
    return final


def findings_path(report: Path) -> Path:
    """Where a report's findings are written: ``brief.pdf`` -> ``brief.findings.json``."""
    return report.with_name(f"{report.stem}.findings.json")


def write_findings(data: dict, path: Path) -> None:
    """The findings as JSON, replacing ``path`` in one step."""
    atomic_write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def _render(report: Report, target: IO[bytes], *, pdf: bool) -> None:
    if pdf:
        render_pdf(report, target)
    else:
        target.write(render_html(report).encode("utf-8"))
