"""The HTML report: every section and figure present, numbers equal to summary.json, the page
self-contained, numbers right-aligned and tables too wide for a page split into groups."""

from __future__ import annotations

import base64
import html
import io
import json
import re
from html.parser import HTMLParser

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from coopsim.analysis.rules import group_rules
from coopsim.measures import MEASURES
from coopsim.record import load_run
from coopsim.report import Report, Section, Table, render_html

SECTIONS = ("summary", "figures", "results", "method", "appendix")


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


def _text(page: str) -> str:
    """The page's text as a reader sees it: entities decoded, line-break hints dropped."""
    return html.unescape(page.replace("<wbr>", ""))


def test_every_section_present_in_order(html_report):
    positions = [html_report.index(f'<section id="{key}">') for key in SECTIONS]
    assert positions == sorted(positions)
    assert "<h1>Policy brief: 2 rules compared</h1>" in html_report


def test_every_figure_embedded_and_decodes(html_report, run_dirs):
    figures = re.findall(
        r'<figure id="([^"]+)"><img alt="[^"]*" src="data:image/png;base64,([^"]+)">',
        html_report,
    )
    keys = [k for k, _ in figures]
    expected = {"fig-lorenz", "fig-agents", "fig-contributions", "fig-equality-productivity"}
    expected.add("fig-ranking")  # page one's figure: the rules on the ranking measure
    for run in run_dirs:
        expected |= {f"fig-wealth-{run.name}", f"fig-mechanism-{run.name}"}
    # Only the run with a training log gets a training figure: no placeholders.
    expected.add(f"fig-training-{run_dirs[0].name}")
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


def _shown_number(cell: str) -> tuple[float, int]:
    """The mean a cell shows and how many decimals it was printed with."""
    mean = cell.split(" [")[0].replace(",", "")
    return float(mean), len(mean.partition(".")[2])


def test_comparison_matches_summary_json(html_report, run_dirs):
    """Every measure of MEASURES the runs have, labelled with its unit, each run's mean as
    summary.json holds it, to the digits shown."""
    parser = _Tables()
    parser.feed(html_report)
    groups = [rows for cap, rows in parser.tables if cap.startswith("Every measure")]
    assert groups
    columns: dict[str, dict[str, str]] = {}
    for rows in groups:
        header, body = rows[0], rows[1:]
        assert header[0] == "measure, unit"
        for j, name in enumerate(header[1:], start=1):
            columns[name] = {row[0]: row[j] for row in body}
    rules = group_rules([load_run(r) for r in run_dirs])  # columns are rules, by label
    assert sorted(rule.runs[0].path for rule in rules) == sorted(run_dirs)
    for rule in rules:
        run = rule.runs[0].path
        summary = json.loads((run / "summary.json").read_text())
        shown = columns[rule.label]
        assert len(shown) == len(summary["metrics"])  # contribution rate included
        for metric, stats in summary["metrics"].items():
            measure = MEASURES[metric]
            label = (
                next(k for k in shown if k.startswith("objective: "))
                if metric == "objective"
                else f"{measure.label}, {measure.unit}"
            )
            mean, places = _shown_number(shown[label])
            assert mean == pytest.approx(stats["mean"], abs=0.5 * 10**-places + 1e-9)


def test_scenario_method_and_mechanisms_described(html_report, run_dirs):
    text = _text(html_report)
    for run in run_dirs:
        config = (run / "scenario.toml").read_text().strip()
        assert config in text  # the resolved config, verbatim
        assert f"coopsim run {run / 'scenario.toml'} --seed 0 --episodes 8" in text
    summary = json.loads((run_dirs[0] / "summary.json").read_text())
    assert summary["torch_version"] in text and summary["coopsim_version"] in text
    # The mechanisms' own descriptions of their parameters, as the runs recorded them.
    assert "Bracket income tax every 1 round(s): 0% above 0, 20% above 20, 50% above 30." in text
    assert "Peer punishment" in text
    assert "20 logged training iterations" in text
    assert "scripted policies, evaluated without training" in text
    assert "Every measure: mean [95% confidence interval]" in text


def test_html_numbers_right_text_left(html_report, run_dirs):
    """Only numeric cells are right-aligned: descriptions read from the left."""
    label = group_rules([load_run(r) for r in run_dirs])[0].label
    assert '<td class="num">' in html_report
    description = "Bracket income tax every 1 round(s): 0% above 0, 20% above 20, 50% above 30."
    assert f'<td class="prose">{html.escape(description)}</td>' in html_report
    assert f'<th class="num">{html.escape(label)}</th>' in html_report
    assert "<th>measure, unit</th>" in html_report
    assert "<td>tax+lump_sum</td>" in html_report  # short text is left as it is
    # sentences keep a readable width; a table too wide for the window scrolls
    assert "td.prose { min-width: 18em; }" in html_report
    assert html_report.count('<div class="table-scroll"><table>') == html_report.count("<table>")


def test_long_words_break_only_after_separators(html_report, run_dirs):
    """A run name in a narrow column may break after _ or -, never inside a number."""
    name = run_dirs[1].name  # public_goods_punishment-<date>-<time>-s0
    assert name.replace("_", "_<wbr>").replace("-", "-<wbr>") in html_report
    assert "<td>tax+lump_sum</td>" in html_report  # a short word stays whole
    # Intervals stay whole beneath their mean; the mean and interval may part.
    table = pd.DataFrame({"measure": ["a"], "run": ["1,040 [1,005, 1,075]"]})
    page = render_html(Report("t", "s", [Section("a", "A", [Table(table, "T")])]))
    assert '<td class="num">1,040 <span class="ci">[1,005, 1,075]</span></td>' in page


def test_table_wider_than_a_page_splits_into_column_groups():
    wide = pd.DataFrame(
        {"name": [f"row-{i}" for i in range(4)]}
        | {f"metric_number_{j}": np.linspace(j, j + 1000, 4) for j in range(14)}
    )
    narrow = pd.DataFrame({"name": ["a", "b"], "value": [1.0, 2.0]})
    page = render_html(
        Report("t", "s", [Section("a", "A", [Table(wide, "Wide"), Table(narrow, "Narrow")])])
    )
    parser = _Tables()
    parser.feed(page)
    groups = [(cap, rows) for cap, rows in parser.tables if cap.startswith("Wide")]
    assert len(groups) >= 2
    assert [cap for cap, _ in groups] == [
        f"Wide (columns {g + 1} of {len(groups)})" for g in range(len(groups))
    ]
    shown = [col for _, rows in groups for col in rows[0][1:]]
    assert shown == list(wide.columns[1:])  # every column once, in order
    for _, rows in groups:
        assert rows[0][0] == "name" and [r[0] for r in rows[1:]] == list(wide["name"])
    assert [cap for cap, _ in parser.tables if cap.startswith("Narrow")] == ["Narrow"]
