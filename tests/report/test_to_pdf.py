"""The PDF report: a real A4 document typeset from the HTML page, with the same text, whole
descriptions, results equal to summary.json, and tables that stay on the page."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from coopsim.cli import main
from coopsim.measures import MEASURES
from coopsim.record import load_run
from coopsim.report import Paragraph, Report, Section, Table, mechanism_rows, render_pdf
from coopsim.report.conditions import conditions
from coopsim.report.content import table_cell

#: The page margin (16 mm) less a little, in points: no word may reach into it.
MARGIN_PT = 0.6 * 72


# pdftoppm/pdftotext come from poppler-utils, which `make test` installs
# (scripts/system-deps.sh); a missing tool fails here rather than skipping silently.
def _pdftotext(path: Path, *options: str) -> str:
    return subprocess.run(
        ["pdftotext", *options, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _squeeze(text: str) -> str:
    """Text without any whitespace: wrapped lines compare equal to the unwrapped original."""
    return "".join(text.split())


def _words_outside_margins(path: Path, margin_pt: float) -> list[str]:
    """Words whose box pokes into a page's side margins or off the page (cut or overflowing
    text)."""
    out = []
    page_w = page_h = 0.0
    for line in _pdftotext(path, "-bbox").splitlines():
        if m := re.search(r'<page width="([\d.]+)" height="([\d.]+)"', line):
            page_w, page_h = float(m[1]), float(m[2])
        elif m := re.search(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>',
            line,
        ):
            x0, y0, x1, y1 = map(float, m.groups()[:4])
            if x0 < margin_pt - 1 or x1 > page_w - margin_pt + 1 or y0 < 0 or y1 > page_h:
                out.append(m[5])
    return out


def test_pdf_opens_and_has_the_same_content(run_dirs, tmp_path):
    out = tmp_path / "report.pdf"
    assert main(["report", str(run_dirs[0]), "-o", str(out)]) == 0
    assert out.read_bytes()[:5] == b"%PDF-"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(out), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    (page,) = tmp_path.glob("page*.png")
    image = mpimg.imread(page)
    assert image.shape[0] > image.shape[1] > 400  # an A4 portrait page at 60 dpi
    ink = (image[..., :3].mean(-1) < 0.5).mean()
    assert 0.002 < ink < 0.5  # text on it, and not a black page
    text = _pdftotext(out, "-layout")
    for title in ("Summary", "Figures", "Comparison", "Method", "Appendix: resolved scenarios"):
        assert re.search(rf"^\s*{re.escape(title)}\s*$", text, re.M), title
    run = load_run(run_dirs[0])
    (condition,) = conditions([run])
    for name in run.summary["metrics"]:
        assert table_cell(condition.metric(name)) in text
    assert re.search(r"^\s*1\s*/\s*\d+\s*$", text, re.M)  # numbered pages


def test_pdf_embeds_every_figure(pdf_report, html_report):
    """Figures are images inside the file (nothing to fetch), one per figure of the HTML."""
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf_report)], capture_output=True, text=True, check=True
    ).stdout
    images = [line for line in listing.splitlines()[2:] if line.split()[2] == "image"]
    assert len(images) == html_report.count("<img")


def test_pdf_mechanism_descriptions_whole(pdf_report, run_dirs):
    """Long descriptions wrap inside their column; none is cut short with an ellipsis."""
    # -raw keeps the drawing order: a cell's wrapped lines follow one another.
    text = _squeeze(_pdftotext(pdf_report, "-raw"))
    described = [row for run in run_dirs for row in mechanism_rows(load_run(run))]
    assert described
    for kind, summary, detail in described:
        assert _squeeze(kind) in text
        assert _squeeze(summary) in text, summary
        assert _squeeze(detail) in text, detail
    assert any(len(detail) > 100 for _, _, detail in described)  # one long enough to wrap
    assert "..." not in _pdftotext(pdf_report)
    assert not _words_outside_margins(pdf_report, MARGIN_PT)


def test_pdf_comparison_matches_summary_json(pdf_report, run_dirs):
    """Each measure's row holds both runs' means as summary.json has them, right-aligned."""
    text = _pdftotext(pdf_report, "-layout")
    start = text.index("Every measure: mean [95% confidence interval]")
    segment = text[start : text.index("Intervals are over", start)]
    found = conditions([load_run(r) for r in run_dirs])  # the table's columns, in its order
    assert sorted(c.runs[0].path for c in found) == sorted(run_dirs)
    summaries = [json.loads((c.runs[0].path / "summary.json").read_text()) for c in found]
    ends = []
    for name in summaries[0]["metrics"]:
        label = "objective: " if name == "objective" else f"{MEASURES[name].label},"
        cells = [table_cell(c.metric(name)) for c in found]
        for cell, summary in zip(cells, summaries):
            shown = float(cell.split(" [")[0].replace(",", ""))
            places = len(cell.split(" [")[0].partition(".")[2])
            assert shown == pytest.approx(summary["metrics"][name]["mean"], abs=0.5 * 10**-places)
        row = re.search(
            rf"^[ \t]*{re.escape(label)}.*?[ \t]{re.escape(cells[0])}[ \t]+{re.escape(cells[1])}[ \t]*$",
            segment,
            re.M,
        )
        assert row, (label, cells)
        ends.append((segment.count("\f", 0, row.start()), len(row[0].rstrip())))
    # Numbers are right-aligned: means of different lengths end in one place (to the
    # character grid pdftotext rounds positions to), on each page the table spans.
    for page in {p for p, _ in ends}:
        on_page = [end for p, end in ends if p == page]
        assert max(on_page) - min(on_page) <= 1, ends


def test_pdf_wide_and_tall_tables(tmp_path):
    """A table wider than the page splits into column groups that repeat the row names; one
    taller than the page continues under a repeated header; nothing leaves the page."""
    long_text = (
        "An unusually long description that goes on for well over a line, naming "
        "identifiers_with_underscores_that_are_long and a-hyphenated-run-name-20261125-163238-s0 "
        "so that words must break inside a narrow column rather than be cut off at its edge."
    )
    wide = pd.DataFrame(
        {"name": [f"row-{i}" for i in range(4)]}
        | {f"metric_number_{j}": np.linspace(j, j + 1000, 4) for j in range(14)}
    )
    tall = pd.DataFrame(
        {
            "name": [f"item-{i:03d}" for i in range(150)],
            "note": [long_text if i % 50 == 7 else f"short note {i}" for i in range(150)],
            "value": np.arange(150) * 1.5,
        }
    )
    report = Report(
        "Layout test",
        "wide and tall tables",
        [
            Section("a", "Tables", [
                Paragraph("Before the tables."),
                Table(wide, caption="Wide table"),
                Table(tall, caption="Tall table"),
            ]),
        ],
    )  # fmt: skip
    out = tmp_path / "layout.pdf"
    render_pdf(report, out)
    pages = _pdftotext(out, "-layout").split("\f")
    raw = _pdftotext(out, "-raw")
    # Wide: every column present once, the row names once per column group.
    groups = raw.count("Wide table (columns")
    assert groups >= 2
    for col in wide.columns[1:]:
        assert len(re.findall(rf"{col}(?!\d)", _squeeze(raw))) == 1, col
    for name in wide["name"]:
        assert raw.count(name) >= groups
    # Tall: every row once, in order, and every page it continues on repeats the header.
    positions = [raw.index(name) for name in tall["name"]]
    assert positions == sorted(positions)
    assert all(raw.count(name) == 1 for name in tall["name"])
    continued = [p for p in pages if "item-" in p and "Tall table" not in p]
    assert continued
    for page in continued:
        assert re.search(r"^\s*name\s+note\s+value\s*$", page, re.M), page[:300]
    assert _squeeze(raw).count(_squeeze(long_text)) == 3
    assert f"{149 * 1.5:.4f}" in raw
    assert not _words_outside_margins(out, MARGIN_PT)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x.png", "file:///etc/hostname"])
def test_pdf_fetches_nothing(tmp_path, monkeypatch, url):
    """A page naming anything but inline data fails rather than reach a network or a file."""
    from weasyprint.urls import FatalURLFetchingError

    from coopsim.report import to_pdf

    monkeypatch.setattr(to_pdf, "render_html", lambda report: f'<img src="{url}">')
    with pytest.raises(FatalURLFetchingError):
        render_pdf(Report("t", "s", []), tmp_path / "x.pdf")
