"""The report's content comes from what runs wrote: mechanisms as recorded in summary.json, a
plain note for runs written before that, and no pipeline rebuilt from a run's config."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from coopsim import builder, scenario
from coopsim.analysis.rules import group_rules
from coopsim.record import load_run
from coopsim.report import Paragraph, Table, build_content, mechanism_rows
from coopsim.report.content import UNRECORDED_MECHANISMS


def _mechanism_section(report):
    (section,) = [s for s in report.sections if s.key == "method"]
    return section


def _without_record(run_dir: Path, dest: Path) -> Path:
    """A copy of ``run_dir`` as a version before mechanisms were recorded wrote it."""
    shutil.copytree(run_dir, dest)
    summary = json.loads((dest / "summary.json").read_text())
    del summary["mechanisms"]
    (dest / "summary.json").write_text(json.dumps(summary))
    return dest


@pytest.fixture
def no_pipelines(monkeypatch):
    """Building a pipeline fails: the report must not need one."""

    def refuse(*args, **kwargs):
        raise AssertionError("the report rebuilt a mechanism pipeline")

    monkeypatch.setattr(builder, "make_pipeline", refuse)


def test_mechanisms_are_read_from_the_summary(run_dirs, no_pipelines):
    rows = mechanism_rows(load_run(run_dirs[0]))
    assert rows == [
        (
            "tax",
            "Income tax with marginal rates per bracket, collected each tax period.",
            "Bracket income tax every 1 round(s): 0% above 0, 20% above 20, 50% above 30.",
        ),
        ("lump_sum", "Lump-sum rebate: the pool is shared equally among agents.",
         "Equal lump-sum rebate of 100% of what was collected."),
    ]  # fmt: skip
    section = _mechanism_section(build_content(run_dirs))
    tables = [b for b in section.blocks if isinstance(b, Table) and "mechanism" in b.frame]
    # one table per rule, in the order of every list of rules: the punishment of the demo's
    # kinds before a tax, whichever run came first
    assert [list(t.frame["mechanism"]) for t in tables] == [["peer_punishment"],
                                                            ["tax", "lump_sum"]]  # fmt: skip


def test_old_runs_get_a_note_not_a_guess(run_dirs, tmp_path, no_pipelines):
    old = _without_record(run_dirs[0], tmp_path / "old-run")
    # Its config names a mechanism this version no longer has: nothing is built from it.
    toml = (old / "scenario.toml").read_text().replace('kind = "lump_sum"', 'kind = "retired"')
    (old / "scenario.toml").write_text(toml)
    assert mechanism_rows(load_run(old)) is None
    section = _mechanism_section(build_content([old]))
    assert not [b for b in section.blocks if isinstance(b, Table) and "mechanism" in b.frame]
    notes = [b.text for b in section.blocks if isinstance(b, Paragraph)]
    (rule,) = group_rules([load_run(old)])  # rules are named as every table of rules names them
    assert f"{rule.label}: tax -> retired; {UNRECORDED_MECHANISMS}." in notes


def test_a_run_without_mechanisms_is_the_bare_game(tmp_path):
    from coopsim.runner import run_scenario

    bare = run_scenario(scenario.load("public_goods"), out=tmp_path, episodes=2)
    assert load_run(bare).summary["mechanisms"] == []
    section = _mechanism_section(build_content([bare]))
    assert not [b for b in section.blocks if isinstance(b, Table) and "mechanism" in b.frame]
    assert "no mechanism: the bare game, no mechanism." in [
        b.text for b in section.blocks if isinstance(b, Paragraph)
    ]


def test_sections_in_order_and_no_runs_refused(run_dirs):
    report = build_content(run_dirs[:1])
    assert [s.key for s in report.sections] == [
        "summary", "figures", "results", "method", "appendix"
    ]  # fmt: skip
    (rule,) = group_rules([load_run(run_dirs[0])])
    assert report.title == f"Policy brief: {rule.label} (public_goods_tax)"
    with pytest.raises(ValueError, match="at least one run"):
        build_content([])


def test_training_budget_read_from_the_runners_record(run_dirs, tmp_path):
    """The runner writes the budget under summary["training"]; the method table shows it."""
    from coopsim.report import method_table

    trained = tmp_path / "trained"
    shutil.copytree(run_dirs[1], trained)
    summary = json.loads((trained / "summary.json").read_text())
    summary["training"] = {"seed": 3, "iterations": 40, "agent_steps": 123456, "seconds": 61.7}
    (trained / "summary.json").write_text(json.dumps(summary))
    (row,) = method_table([load_run(trained)])["training"]
    assert (
        row == "40 training iterations, 123,456 agent-steps, 62 seconds of training, "
        "training seed 3"
    )
