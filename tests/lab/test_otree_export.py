"""What `coopsim otree export` refuses, in one line, and the planner's rule it fixes."""

from __future__ import annotations

import json

import pytest

from coopsim import scenario as scenario_mod
from coopsim.cli import main
from coopsim.lab.otree_export import build_rule, export
from coopsim.schema import ConfigError


@pytest.mark.parametrize(
    "source, seats, words",
    [
        ("public_goods_learning_punishment", [0], "PPO seats need a trained run"),
        ("democratic_liberal_egalitarian", [0], "PPO seats need a trained run"),
        ("public_goods_matching_planner", [0], "export a run directory"),
        ("public_goods", [4], "needs distinct seats from 1 to 4"),
        ("economy_free_market", [0], "only public_goods can be exported"),
    ],
)
def test_refusals_name_the_field(source, seats, words):
    with pytest.raises(ConfigError, match=words):
        build_rule(source, seats)


def test_cli_error_is_one_line_and_leaves_no_folder(tmp_path, capsys):
    out = tmp_path / "project"
    assert main(["otree", "export", "democratic_libertarian", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "PPO seats need a trained run" in err
    assert list(tmp_path.iterdir()) == []
    export("public_goods", out, [0])
    assert main(["otree", "export", "public_goods", "--out", str(out)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]  # no staging left behind


def test_a_planner_run_is_exported_with_the_rule_it_learned(tmp_path):
    from coopsim.runner import run_scenario

    sc = scenario_mod.load("democratic_ai_planner")
    run = run_scenario(sc, out=tmp_path, iterations=1, episodes=2)
    learned = json.loads((run / "summary.json").read_text())["planner"]["mean_controls"]
    rule = build_rule(str(run), [0])
    params = rule["mechanisms"][0]["params"]
    assert [params["w"], params["v"]] == pytest.approx(learned)
    assert rule["mechanism_observation"][0] == pytest.approx(learned, abs=1e-6)
    assert "planner learned" in rule["planner_note"]
    assert rule["rule_text"][0].startswith("Redistribution of the pot: ")
    assert {a["policy"] for a in rule["agents"].values()} == {"actor"}


def test_a_planner_evaluated_by_its_schedule_is_exported_at_that_schedule(tmp_path):
    """One iteration of the demo's planner: it has not acted, evaluation installed its schedule,
    and the summary has no planner entry; the export plays that schedule and says so."""
    from coopsim.runner import run_scenario

    sc = scenario_mod.load("demo_planner_matching")
    sc.training.num_worlds = 8
    run = run_scenario(sc, out=tmp_path, iterations=1, episodes=2)
    summary = json.loads((run / "summary.json").read_text())
    assert "planner" not in summary
    schedule = summary["training"]["planner_schedule"]
    rule = build_rule(str(run), [0])
    assert rule["mechanisms"][0]["params"]["rate"] == pytest.approx(schedule[0])
    assert "installed schedule" in rule["planner_note"]
    with pytest.raises(ConfigError, match="fixed schedule"):
        build_rule(str(run), [0], planner="replay")
