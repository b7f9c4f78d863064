"""The summary's findings, read back from the HTML and the PDF, say what rules_table says."""

from __future__ import annotations

import html
import re
import subprocess

from coopsim.analysis.rules import estimate_text, rules_table
from coopsim.record import load_run
from coopsim.report.brief_findings import brief


def _summary_paragraphs(page: str) -> list[str]:
    section = page[page.index('<section id="summary">') : page.index("</section>")]
    return [html.unescape(p) for p in re.findall(r"<p>(.*?)</p>", section, re.S)]


def _squeeze(text: str) -> str:
    return "".join(text.split())


def test_findings_in_the_html_match_rules_table(html_report, run_dirs):
    runs = [load_run(r) for r in run_dirs]
    table = rules_table(runs)
    b = brief(runs)
    # two scripted rules judged by the same objective: ranked on it
    assert b.rank_by == "equality_times_productivity"
    assert b.rank_reason == "the objective every rule shares"
    paragraphs = _summary_paragraphs(html_report)
    assert paragraphs[0].startswith("Question: Which rule does best in the public-goods world")
    best = b.ranked[0]
    row = table[(table["rule"] == best) & (table["measure"] == b.rank_by)].iloc[0]
    said = estimate_text(row["mean"], row["ci_low"], row["ci_high"], row["unit"])
    headline = next(p for p in paragraphs if "best on equality x productivity" in p)
    assert said in headline and best[:1].upper() + best[1:] in headline
    means = [
        table[(table["rule"] == r) & (table["measure"] == b.rank_by)]["mean"].item()
        for r in b.ranked
    ]
    assert means == sorted(means, reverse=True)


def test_findings_are_the_same_in_the_pdf(html_report, pdf_report):
    text = _squeeze(
        subprocess.run(
            ["pdftotext", "-raw", str(pdf_report), "-"], capture_output=True, text=True, check=True
        ).stdout
    )
    paragraphs = _summary_paragraphs(html_report)
    assert len(paragraphs) >= 4
    for paragraph in paragraphs:
        assert _squeeze(paragraph) in text, paragraph
