"""The scenario report: every section and figure present, numbers equal to summary.json, the
HTML self-contained, and the PDF a real document whose first page renders."""

from __future__ import annotations

import base64
import html
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from coopsim import scenario
from coopsim.cli import main
from coopsim.report import build_report
from coopsim.runner import run_scenario

SECTIONS = ("scenario", "mechanisms", "method", "results", "figures")


def _training_copy(run_dir: Path, dest: Path) -> Path:
    """A copy of an evaluated tax run with a training log, as a planner run would have."""
    shutil.copytree(run_dir, dest)
    iters = np.arange(20)
    log = pd.DataFrame(
        {
            "iteration": iters,
            "equality_times_productivity": 600 + 10 * iters,
            "productivity": 900 + 5.0 * iters,
            "tax_rate_0": np.linspace(0.0, 0.05, 20),
            "tax_rate_1": np.linspace(0.2, 0.35, 20),
            "tax_rate_2": np.linspace(0.5, 0.4, 20),
        }
    )
    log.to_parquet(dest / "metrics.parquet", index=False)
    return dest


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("runs")
    tax = run_scenario(scenario.load("public_goods_tax"), out=out, episodes=8)
    punish = run_scenario(scenario.load("public_goods_punishment"), out=out, episodes=8)
    trained = _training_copy(tax, out / "public_goods_tax-trained-s0")
    return [trained, punish]


class _Tables(HTMLParser):
    """Collects every <table> as (caption, rows of cell text)."""

    def __init__(self):
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self._in: str | None = None
        self._buf = ""

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append(("", []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        if tag in ("td", "th", "caption"):
            self._in, self._buf = tag, ""

    def handle_data(self, data):
        if self._in:
            self._buf += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._in == tag:
            self.tables[-1][1][-1].append(self._buf)
        elif tag == "caption" and self._in == "caption":
            self.tables[-1] = (self._buf, self.tables[-1][1])
        if tag == self._in:
            self._in = None


@pytest.fixture(scope="module")
def html_report(run_dirs, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", *map(str, run_dirs), "-o", str(out)]) == 0
    return out.read_text(encoding="utf-8")


def test_every_section_present_in_order(html_report):
    positions = [html_report.index(f'<section id="{key}">') for key in SECTIONS]
    assert positions == sorted(positions)
    assert "<h1>coopsim report: 2 scenarios compared</h1>" in html_report


def test_every_figure_embedded_and_decodes(html_report, run_dirs):
    figures = re.findall(
        r'<figure id="([^"]+)"><img alt="[^"]*" src="data:image/png;base64,([^"]+)">',
        html_report,
    )
    keys = [k for k, _ in figures]
    expected = {"fig-lorenz", "fig-agents", "fig-contributions", "fig-equality-productivity",
                "fig-compare"}  # fmt: skip
    for run in run_dirs:
        expected |= {f"fig-training-{run.name}", f"fig-wealth-{run.name}",
                     f"fig-mechanism-{run.name}"}  # fmt: skip
    assert set(keys) == expected and len(keys) == len(expected)
    assert html_report.count("<img") == len(expected)
    for _, data in figures:
        image = mpimg.imread(io.BytesIO(base64.b64decode(data)), format="png")
        assert image.shape[0] > 200 and image.shape[1] > 300
        assert image[..., :3].std() > 0.01  # not a blank canvas


def test_html_is_self_contained(html_report):
    assert not re.search(r'(src|href)="(https?:)?//', html_report)
    assert "<link" not in html_report and "<script" not in html_report
    assert "@import" not in html_report


def test_results_match_summary_json(html_report, run_dirs):
    parser = _Tables()
    parser.feed(html_report)
    for run in run_dirs:
        summary = json.loads((run / "summary.json").read_text())
        label = summary["scenario"]
        (table,) = [
            rows for cap, rows in parser.tables if cap.startswith(f"{label}: mean over evaluation")
        ]
        header, body = table[0], table[1:]
        assert header[:4] == ["metric", "mean", "ci_low", "ci_high"]
        shown = {row[0]: row for row in body}
        assert set(shown) == set(summary["metrics"])
        for metric, stats in summary["metrics"].items():
            row = shown[metric]
            assert float(row[1]) == pytest.approx(stats["mean"], abs=1e-4)
            assert float(row[2]) == pytest.approx(stats["ci_low"], abs=1e-4)
            assert float(row[3]) == pytest.approx(stats["ci_high"], abs=1e-4)
            assert float(row[4]) <= float(row[1]) + 1e-4 <= float(row[5]) + 2e-4
            assert int(row[6]) == stats["n"] == 8


def test_scenario_method_and_mechanisms_described(html_report, run_dirs):
    text = html.unescape(html_report)
    for run in run_dirs:
        config = (run / "scenario.toml").read_text().strip()
        assert config in text  # the resolved config, verbatim
        assert f"coopsim run {run / 'scenario.toml'} --seed 0 --episodes 8" in text
    summary = json.loads((run_dirs[0] / "summary.json").read_text())
    assert summary["torch_version"] in text and summary["coopsim_version"] in text
    # The mechanisms' own descriptions of their parameters.
    assert "Bracket income tax every 1 round(s): 0% above 0, 20% above 20, 50% above 30." in text
    assert "Peer punishment" in text
    assert "20 logged training iterations" in text
    assert "scripted policies, evaluated without training" in text
    assert "Comparison across runs" in text


def test_pdf_opens_and_has_the_same_content(run_dirs, tmp_path):
    # pdftoppm/pdftotext come from poppler-utils, which `make test` installs
    # (scripts/system-deps.sh); a missing tool fails here rather than skipping silently.
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
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    for title in ("Scenario", "Mechanisms", "Method", "Results", "Figures"):
        assert re.search(rf"^\s*{title}\s*$", text, re.M), title
    summary = json.loads((run_dirs[0] / "summary.json").read_text())
    for stats in summary["metrics"].values():
        assert f"{stats['mean']:.4f}" in text


def test_report_to_folder_and_bad_suffix(run_dirs, tmp_path, capsys):
    path = build_report(run_dirs[1:], tmp_path / "reports", n_boot=200)
    assert path.parent == tmp_path / "reports" and path.suffix == ".html"
    with pytest.raises(ValueError, match=r"\.html or \.pdf"):
        build_report(run_dirs[1:], tmp_path / "report.docx")
    assert main(["report", str(tmp_path / "nothing-*"), "-o", str(tmp_path / "r.html")]) == 2
    assert "no run directories" in capsys.readouterr().err


# ----------------------------------------------------------------------------- PDF tables


def _pdftotext(path: Path, *options: str) -> str:
    return subprocess.run(
        ["pdftotext", *options, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _squeeze(text: str) -> str:
    """Text without any whitespace: wrapped lines compare equal to the unwrapped original."""
    return "".join(text.split())


def _words_outside_margins(path: Path, margin_pt: float) -> list[str]:
    """Words whose box pokes into a page's margin (cut or overflowing text)."""
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


@pytest.fixture(scope="module")
def pdf_report(run_dirs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pdf") / "report.pdf"
    assert main(["report", *map(str, run_dirs), "-o", str(out)]) == 0
    return out


def test_pdf_mechanism_descriptions_whole(pdf_report, run_dirs):
    """Long descriptions wrap inside their column; none is cut short with an ellipsis."""
    from coopsim.record import load_run
    from coopsim.report import _mechanism_descriptions

    # -raw keeps the drawing order: a cell's wrapped lines follow one another.
    text = _squeeze(_pdftotext(pdf_report, "-raw"))
    described = [d for run in run_dirs for d in _mechanism_descriptions(load_run(run))]
    assert described
    for kind, summary, detail in described:
        assert _squeeze(kind) in text
        assert _squeeze(summary) in text, summary
        assert _squeeze(detail) in text, detail
    assert any(len(detail) > 100 for _, _, detail in described)  # one long enough to wrap
    assert "..." not in _pdftotext(pdf_report)
    assert not _words_outside_margins(pdf_report, 0.6 * 72)


def test_pdf_results_tables_match_summary_json(pdf_report, run_dirs):
    text = _pdftotext(pdf_report, "-layout")
    number = r"(-?\d+\.\d+)"
    row = re.compile(
        rf"^\s*(\w+)\s+{number}\s+{number}\s+{number}\s+{number}\s+{number}\s+(\d+)\s*$"
    )
    for run in run_dirs:
        summary = json.loads((run / "summary.json").read_text())
        caption = f"{summary['scenario']}: mean over evaluation episodes"
        start = text.index(caption) + len(caption)
        ends = [text.find(m, start) for m in (": mean over evaluation", "Comparison across")]
        segment = text[start : min(e for e in ends if e > 0)]
        shown = {m[1]: m.groups()[1:] for line in segment.splitlines() if (m := row.match(line))}
        assert set(shown) == set(summary["metrics"])
        for metric, stats in summary["metrics"].items():
            mean, low, high, boot_low, boot_high, n = shown[metric]
            assert float(mean) == pytest.approx(stats["mean"], abs=1e-4)
            assert float(low) == pytest.approx(stats["ci_low"], abs=1e-4)
            assert float(high) == pytest.approx(stats["ci_high"], abs=1e-4)
            assert float(boot_low) <= float(mean) + 1e-4 <= float(boot_high) + 2e-4
            assert int(n) == stats["n"]
        # Numbers are right-aligned: the means, of different lengths, end in one place (to
        # the character grid pdftotext rounds positions to).
        matches = [m for line in segment.splitlines() if (m := row.match(line))]
        assert len({len(m[2]) for m in matches}) > 1
        ends = [m.end(2) for m in matches]
        assert max(ends) - min(ends) <= 1, ends


def test_pdf_wide_and_tall_tables(tmp_path):
    """A table wider than the page splits into column groups that repeat the row names; one
    taller than the page continues under a repeated header; nothing leaves the page."""
    from coopsim.report import Paragraph, Report, Section, Table, render_pdf

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
        assert _squeeze(col) in _squeeze(raw)
    for name in wide["name"]:
        assert raw.count(name) >= groups
    # Tall: every row once, in order, and each continuation page repeats the header.
    positions = [raw.index(name) for name in tall["name"]]
    assert positions == sorted(positions)
    assert all(raw.count(name) == 1 for name in tall["name"])
    continued = [p for p in pages if "Tall table (continued)" in p]
    assert continued
    for page in continued:
        assert re.search(r"^\s*name\s+note\s+value\s*$", page, re.M), page[:300]
    assert _squeeze(raw).count(_squeeze(long_text)) == 3
    assert f"{149 * 1.5:.4f}" in raw
    assert not _words_outside_margins(out, 0.6 * 72)


def test_wrapping_never_drops_text():
    from coopsim.report import _wrap_measured

    text = "contributions below 100% of the endowment are fined, public_goods_institution-2026"
    for width in (0.3, 0.8, 1.5, 7.0):
        lines = _wrap_measured(text, width, 7.5)
        assert _squeeze("".join(lines)) == _squeeze(text)
        assert len(lines) == 1 if width == 7.0 else len(lines) > 1


def test_html_numbers_right_text_left(html_report):
    """Only numeric cells are right-aligned: descriptions read from the left."""
    assert '<td class="num">' in html_report
    description = "Bracket income tax every 1 round(s): 0% above 0, 20% above 20, 50% above 30."
    assert f'<td class="prose">{html.escape(description)}</td>' in html_report
    assert '<th class="num">mean</th>' in html_report and "<th>metric</th>" in html_report
    assert "<td>public_goods" in html_report  # short text is left as it is
    # sentences keep a readable width; a table too wide for the window scrolls
    assert "td.prose { min-width: 18em; }" in html_report
    assert html_report.count('<div class="table-scroll"><table>') == html_report.count("<table>")


def test_coinciding_lines_stay_distinguishable(run_dirs):
    """Runs or agents with the same data are drawn over one another; each keeps its own dash
    and marker so the legend names only lines a reader can find."""
    from coopsim import figures
    from coopsim.record import load_run

    runs = [load_run(r) for r in run_dirs]
    for fig in (figures.contributions_per_round(runs), figures.wealth_over_time(runs[0])):
        (ax,) = fig.axes
        series = [ln for ln in ax.get_lines() if ln.get_marker() not in (None, "None", "")]
        assert len(series) >= 2
        styles = {(ln.get_linestyle(), ln.get_marker()) for ln in series}
        assert len(styles) == len(series)


def test_crowded_figures_keep_legends_off_the_data(run_dirs):
    """Bars and full-height lines leave no free corner: these legends sit below the axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from coopsim import figures
    from coopsim.record import load_run

    runs = [load_run(r) for r in run_dirs]
    for fig in (figures.agent_outcomes(runs), figures.contributions_per_round(runs)):
        (ax,) = fig.axes
        assert ax.get_legend() is None
        (legend,) = fig.legends
        canvas = FigureCanvasAgg(fig)  # figures are built without pyplot, so no canvas yet
        canvas.draw()
        renderer = canvas.get_renderer()
        box, axes_box = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
        assert box.y1 <= axes_box.y0  # wholly below the axes
        assert {t.get_text() for t in legend.get_texts()} >= {r.summary["scenario"] for r in runs}
