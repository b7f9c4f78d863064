"""A brief's findings are data; every sentence is held to rules_table on demo-like runs."""

from __future__ import annotations

import html
import json
import re

import pytest

from coopsim.analysis.rules import estimate_text, rules_table
from coopsim.cli import main
from coopsim.record import load_run
from coopsim.report.brief_findings import brief, ranked_table, ranking
from tests.demo_runs import tiny_demo


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    paths = tiny_demo(tmp_path_factory.mktemp("demo"))
    return [load_run(p) for by_seed in paths.values() for p in by_seed.values()]


@pytest.fixture(scope="module")
def demo_brief(demo_runs):
    return brief(demo_runs)


def _row(table, rule, measure):
    rows = table[(table["rule"] == rule) & (table["measure"] == measure)]
    assert len(rows) == 1, (rule, measure)
    return rows.iloc[0]


def _said(row) -> str:
    return estimate_text(row["mean"], row["ci_low"], row["ci_high"], row["unit"])


def test_the_headline_ranks_every_rule_on_net_welfare_computed_alike(demo_runs, demo_brief):
    b = demo_brief
    table = rules_table(demo_runs)
    # the fixed rules record equality x productivity, the planner net welfare: no shared
    # objective, so the planner's, computed for every rule
    assert b.rank_by == "net_welfare" and "planner was trained for" in b.rank_reason
    means = [_row(table, r, "net_welfare")["mean"] for r in b.ranked]
    assert means == sorted(means, reverse=True) and len(b.ranked) == 5
    ranked = next(f for f in b.findings if f.key == "ranking")
    for i, rule in enumerate(b.ranked, 1):
        assert f"{i}. {rule} {_said(_row(table, rule, 'net_welfare'))}" in ranked.sentence
        assert ranked.values[rule]["mean"] == pytest.approx(
            _row(table, rule, "net_welfare")["mean"]
        )
    assert "1.8 per coin a sponsor paid" in ranked.sentence


def test_the_best_is_said_as_a_tie_exactly_when_intervals_overlap(demo_runs, demo_brief):
    b = demo_brief
    table = rules_table(demo_runs)
    best = next(f for f in b.findings if f.key == "best")
    top = _row(table, b.ranked[0], "net_welfare")
    overlapping = [
        r
        for r in b.ranked
        if _row(table, r, "net_welfare")["ci_low"] <= top["ci_high"]
        and top["ci_low"] <= _row(table, r, "net_welfare")["ci_high"]
    ]
    assert b.ties == overlapping == best.rules
    if len(overlapping) > 1:
        assert "tie for best" in best.sentence
        for rule in overlapping:
            assert rule in best.sentence
    else:
        assert best.sentence.startswith(f"{b.ranked[0]} did best on net welfare")
        assert "its interval clears" in best.sentence


def test_ties_and_clear_wins_from_the_intervals():
    clear = {"a": dict(mean=5, ci_low=4, ci_high=6), "b": dict(mean=1, ci_low=0, ci_high=2)}
    assert ranking(clear, higher=True) == (["a", "b"], ["a"])
    close = {"a": dict(mean=5, ci_low=3, ci_high=7), "b": dict(mean=4, ci_low=2, ci_high=6)}
    assert ranking(close, higher=True) == (["a", "b"], ["a", "b"])
    assert ranking(clear, higher=False) == (["b", "a"], ["b"])


def test_what_each_rule_was_designed_for_and_what_a_sponsor_paid(demo_runs, demo_brief):
    table = rules_table(demo_runs)
    said = {f.key: f for f in demo_brief.findings}
    planner = next(r for r in demo_brief.ranked if "planner-chosen" in r)
    assert said["trained_for"].notes[planner] == "net_welfare"
    assert f"{planner}: a learning planner chose the rule to maximise net welfare" in (
        said["trained_for"].sentence
    )
    assert said["trained_for"].notes["matching 4:1"] == "fixed"
    sponsor = said["sponsor"]
    assert set(sponsor.rules) == {planner, "matching 4:1"}
    for rule in sponsor.rules:
        assert _said(_row(table, rule, "sponsor_outlay")) in sponsor.sentence
    cooperation = said["cooperation"]  # the learners' rate: every demo rule seats learners
    assert cooperation.measure == "learners_contribution_rate"
    for rule in demo_brief.ranked:
        assert _said(_row(table, rule, "learners_contribution_rate")) in cooperation.sentence


def test_page_one_table_is_ranked_with_labels_and_seeds(demo_brief):
    frame = ranked_table(demo_brief)
    assert list(frame["rule"]) == demo_brief.ranked
    assert list(frame.columns[:3]) == ["rank", "rule", "net welfare"]
    assert set(frame["seeds"]) == {"2"}
    assert "designed for" in frame and "fixed rule" in set(frame["designed for"])


def test_rank_by_names_the_measure_or_one_clear_error(demo_runs):
    b = brief(demo_runs, rank_by="contribution_rate")
    assert b.rank_by == "contribution_rate" and b.rank_reason == "the measure named to rank by"
    with pytest.raises(ValueError, match=r"--rank-by: 'nonsense' .* allowed: .*net_welfare"):
        brief(demo_runs, rank_by="nonsense")


def test_the_report_writes_its_findings_beside_it_and_says_them(demo_runs, tmp_path):
    out = tmp_path / "brief.html"
    assert main(["report", *[str(r.path) for r in demo_runs], "-o", str(out)]) == 0
    data = json.loads((tmp_path / "brief.findings.json").read_text())
    assert data["rank_by"] == "net_welfare" and data["sponsor_cost"] == 1.8
    page = out.read_text()
    summary = page[page.index('<section id="summary">') : page.index("</section>")]
    for finding in data["findings"]:
        if finding["key"] in ("best", "sponsor", "cooperation"):
            sentence = finding["sentence"]
            words = re.sub(r"\s+", " ", sentence[:1].upper() + sentence[1:])
            assert html.escape(words) in re.sub(r"\s+", " ", summary), finding["key"]
        for value in finding["values"].values():
            assert value["ci_low"] <= value["mean"] <= value["ci_high"]


@pytest.mark.parametrize(
    ("outlays", "tail"),
    [
        ({"matching 4:1": 1732.0}, "counts each coin at 1.8."),
        ({"matching 4:1": 1732.0, "no mechanism": 0.0}, "no mechanism brings in no outside money."),
        (
            {"matching 4:1": 1732.0, "no mechanism": 0.0, "institution": 0.0},
            "no mechanism and institution bring in no outside money.",
        ),
    ],
)
def test_the_sponsor_sentence_names_only_rules_that_are_there(outlays, tail):
    """A brief of one rule used to say "the other rules bring in no outside money"."""
    import pandas as pd

    from coopsim.report.brief_findings import _sponsor_finding

    rows = [
        {
            "rule": r,
            "measure": "sponsor_outlay",
            "mean": v,
            "ci_low": v,
            "ci_high": v,
            "n": 3,
            "units": "training seeds",
        }
        for r, v in outlays.items()
    ]
    table = pd.DataFrame(rows)
    table.attrs["sponsor_cost"] = 1.8
    finding = _sponsor_finding(table, list(outlays))
    assert finding.sentence.endswith(tail), finding.sentence


def test_with_a_scripted_rule_the_contribution_finding_says_why_it_counts_all_seats(
    demo_runs, tmp_path
):
    """One scripted run turns the comparison's rate from the learners' to every seat's (one
    definition for every rule); the sentence says so and names the rule that made it."""
    from coopsim import scenario
    from coopsim.runner import run_scenario

    scripted = load_run(
        run_scenario(scenario.load("public_goods_institution"), out=tmp_path, episodes=2)
    )
    b = brief([*demo_runs, scripted])
    (found,) = [f for f in b.findings if f.key == "cooperation"]
    assert found.measure == "contribution_rate"
    (label,) = [r.label for r in b.rules if r.runs[0].path == scripted.path]
    assert found.notes["not_learners_rate"] == {label: "no learning seats"}
    assert f"since {label} has no learning seats" in found.sentence, found.sentence
    assert found.sentence.startswith("Contribution rate, all seats ("), found.sentence
    # the demo alone keeps the learners' rate and has no such clause
    (alone,) = [f for f in brief(demo_runs).findings if f.key == "cooperation"]
    assert alone.measure == "learners_contribution_rate" and "since" not in alone.sentence
    assert "not_learners_rate" not in alone.notes
