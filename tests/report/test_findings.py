"""The summary's findings, read back from the HTML and the PDF, say what summary.json says."""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import pytest

from coopsim.record import load_run
from coopsim.report.conditions import conditions
from coopsim.report.findings import findings, formatted


def _summary_paragraphs(page: str) -> list[str]:
    section = page[page.index('<section id="summary">') : page.index("</section>")]
    return [html.unescape(p) for p in re.findall(r"<p>(.*?)</p>", section, re.S)]


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _best(run_dirs: list[Path]) -> tuple[dict, dict]:
    """(best, other) summary.json by the objective's mean."""
    summaries = [json.loads((r / "summary.json").read_text()) for r in run_dirs]
    ranked = sorted(summaries, key=lambda s: s["metrics"]["objective"]["mean"], reverse=True)
    return ranked[0], ranked[1]


def test_findings_in_the_html_match_summary_json(html_report, run_dirs):
    paragraphs = _summary_paragraphs(html_report)
    assert paragraphs[0].startswith("Question: Which rules do best in the public_goods world")
    best, other = _best(run_dirs)
    objective = next(p for p in paragraphs[1:] if "on the social objective (equality x" in p)
    # The first number after the colon is the best rules' objective, rounded for reading.
    shown = re.search(r"productivity\): ([\d,.]+)", objective)
    assert shown, objective
    assert _number(shown[1]) == pytest.approx(best["metrics"]["objective"]["mean"], rel=5e-3)
    assert best["scenario"] in objective
    cooperation = next(p for p in paragraphs if p.startswith("Cooperation (contribution rate"))
    for summary in (best, other):
        rate = summary["metrics"]["contribution_rate"]["mean"]
        rules = summary["mechanism"].replace("+", " + ")
        match = re.search(rf"([\d.]+)%(?: \[[\d., ]+\])? under {re.escape(rules)}\b", cooperation)
        assert match, (rules, cooperation)
        assert _number(match[1]) / 100 == pytest.approx(rate, abs=5e-3)


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


def test_who_gained_and_what_it_cost_use_episode_intervals(run_dirs):
    runs = [load_run(r) for r in run_dirs]
    found = conditions(runs)
    sentences = findings(found)
    cost = next(s for s in sentences if s.startswith("What it cost"))
    gain = next(s for s in sentences if s.startswith("Who gained") or "Final wealth" in s)
    best = max(found, key=lambda c: c.metric("objective").mean)
    productivity = best.metric("productivity")
    assert formatted(productivity) in cost
    # Free riders and contributors (policies differ) are named by policy.
    assert "free_rider agents" in gain


def test_a_close_race_is_not_called(run_dirs, tmp_path):
    """Two runs of one scenario with overlapping intervals: the best is not separated."""
    import shutil

    copies = []
    for i, shift in enumerate((0.0, 1e-3)):
        dest = tmp_path / f"copy-{i}"
        shutil.copytree(run_dirs[1], dest)
        summary = json.loads((dest / "summary.json").read_text())
        summary["scenario"] = f"variant_{i}"
        stats = summary["metrics"]["objective"]
        stats.update(mean=100 + shift, ci_low=90 + shift, ci_high=110 + shift, std=5.0)
        (dest / "summary.json").write_text(json.dumps(summary))
        copies.append(load_run(dest))
    (best, *_) = findings(conditions(copies))
    assert "variant_1" in best.split("did best")[0]
    assert "so these runs do not separate the two" in best
