"""``stress``: every rule against every population in one batch, an exploiter that learns, and
a folder that resumes like a sweep."""

from __future__ import annotations

import pandas as pd
import pytest

from coopsim.schema import ConfigError
from coopsim.stress.driver import CELLS, COLUMNS, Stress, StressConfig, stress
from coopsim.stress.populations import load_population

QUICK = StressConfig(episodes=4, coalitions=(1,), exploiter_iterations=2)


@pytest.fixture(scope="module")
def stressed(stress_runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("stressed")
    runs = list(stress_runs.values())
    pops = [load_population("free_riders"), load_population("conditional_cooperators")]
    plan = Stress(runs, pops, out, QUICK)
    path = plan.run(progress=False)
    return out, pd.read_parquet(path), plan


def test_the_table_has_every_rule_and_population(stressed):
    _, frame, _ = stressed
    assert list(frame.columns) == list(COLUMNS)
    planner = frame[frame["rule"] == "public_goods_matching_planner"]
    assert set(planner["population"]) == {
        "in-distribution",
        "cross-seed",
        "free_riders",
        "conditional_cooperators",
        "exploiter (1 seat)",
        "warm exploiter (1 seat)",  # started from the seat it replaced
    }
    learning = frame[frame["rule"] == "public_goods_learning"]
    assert "trained under public_goods_learning_matching" in set(learning["population"])
    assert (frame["ci_low"] <= frame["mean"] + 1e-9).all()
    assert (frame["mean"] <= frame["ci_high"] + 1e-9).all()
    # two seeds of the planner: its in-distribution interval is over its two runs
    home = planner[
        (planner["population"] == "in-distribution") & (planner["measure"] == "objective")
    ]
    assert home["over"].item() == "runs" and home["n"].item() == 2


def test_scripted_populations_play_as_scripted_under_every_rule(stressed):
    _, frame, _ = stressed
    rate = frame[frame["measure"] == "contribution_rate"].set_index(["rule", "population"])["mean"]
    for rule in frame["rule"].unique():
        assert rate[(rule, "free_riders")] == 0.0
        assert rate[(rule, "conditional_cooperators")] == pytest.approx(1.0)


def test_agents_that_cannot_sit_in_a_world_are_skipped_with_a_note(stressed):
    _, frame, plan = stressed
    planner = frame[frame["rule"] == "public_goods_matching_planner"]
    assert not planner["population"].str.startswith("trained under").any()
    assert any("public_goods_learning" in n and "cannot sit" in n for n in plan.notes)
    # one line per pair of rules, not per run: the planner's two seeds share theirs
    assert all(" s0" not in n and " s1" not in n for n in plan.notes)


def test_a_rerun_resumes_and_other_inputs_are_refused(stressed, stress_runs):
    out, frame, _ = stressed
    cells = sorted((out / CELLS).iterdir())
    stamps = [p.stat().st_mtime_ns for p in cells]
    runs = list(stress_runs.values())
    pops = [load_population("free_riders"), load_population("conditional_cooperators")]
    again = pd.read_parquet(stress(runs, pops, out, QUICK, progress=False))
    pd.testing.assert_frame_equal(again, frame)
    assert [p.stat().st_mtime_ns for p in cells] == stamps  # nothing recomputed
    with pytest.raises(ConfigError) as err:
        stress(runs, pops, out, StressConfig(episodes=5, exploiter_iterations=2), progress=False)
    assert err.value.field == "config.episodes" and "--fresh" in err.value.problem


def test_a_mixture_may_hold_a_runs_learners(stress_runs, tmp_path):
    mix = tmp_path / "mix.toml"
    mix.write_text(
        'world = "public_goods"\n[[members]]\npolicy = "free_rider"\nshare = 0.5\n'
        f'[[members]]\nrun = "{stress_runs["public_goods_learning"]}"\nshare = 0.5\n'
    )
    config = StressConfig(episodes=4, coalitions=())
    path = stress(
        [stress_runs["public_goods_learning_matching"]],
        [load_population(mix)],
        tmp_path / "o",
        config,
        progress=False,
    )
    frame = pd.read_parquet(path)
    rate = frame[(frame["population"] == "mix") & (frame["measure"] == "contribution_rate")]
    assert 0 < rate["mean"].item() < 1  # free riders and learners at once
    planner_world = load_population(mix)
    with pytest.raises(ConfigError, match=r"members\[1\]\.run"):
        stress([stress_runs["planner-s0"]], [planner_world], tmp_path / "p", config, progress=False)


def test_an_exploiter_learns_to_free_ride_on_altruists(altruists_run, tmp_path):
    """Free riding on three altruists pays 12 coin a round over contributing all (120 an
    episode); a fresh learner contributing at random gains about half that. After training it
    must gain well beyond what chance gives, and cost the group's objective."""
    config = StressConfig(episodes=16, coalitions=(1,), exploiter_iterations=25)
    frame = pd.read_parquet(stress([altruists_run], [], tmp_path, config, progress=False))
    row = frame[frame["measure"] == "exploiter_gain"]
    assert row["population"].item() == "exploiter (1 seat)"
    assert row["mean"].item() > 90
    change = frame[frame["measure"] == "objective_change"]["mean"].item()
    assert change < 0


def test_the_command_writes_the_table_and_a_report_takes_the_folder(stress_runs, tmp_path, capsys):
    from coopsim.cli import main
    from coopsim.report.content import build_content

    out = tmp_path / "cli"
    runs = [str(stress_runs["planner-s0"]), str(stress_runs["planner-s1"])]
    code = main(["stress", *runs, "--out", str(out), "--episodes", "4", "--coalitions", "",
                 "--populations", "fgf2001"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr()
    assert printed.out.strip() == str(out / "stress.parquet")
    header = next(line for line in printed.err.splitlines() if line.lstrip().startswith("rule"))
    assert header.split()[:2] == ["rule", "objective"]  # each rule's own objective, named
    assert "net welfare" in printed.err  # the matching planner's
    # the rule by the label the brief and the Compare page give it, not its scenario's name
    from coopsim.analysis.rules import group_rules
    from coopsim.record import load_run

    (rule,) = group_rules([load_run(r) for r in runs])
    lines = printed.err.splitlines()
    row = lines[lines.index(header) + 1]
    assert row.lstrip().startswith(rule.label) and "public_goods_matching_planner" not in row
    # what each number is: the worst case is over the other populations, on their own episodes
    assert "in_distribution: the rule's own trained seats (mean over its runs, 4 episodes" in (
        printed.err
    )
    assert "populations it never trained with" in printed.err
    report = build_content([out])
    stress_sections = [s for s in report.sections if s.key == "stress"]
    assert len(stress_sections) == 1
    assert main(["stress", *runs, "--out", str(out), "--populations", "nobody"]) == 2
    assert "no such population" in capsys.readouterr().err


def test_coalition_sizes_parse_and_bad_ones_are_refused():
    import argparse

    from coopsim.cli.stress import coalition_list

    assert coalition_list("1,2") == [1, 2] and coalition_list("") == []
    for bad in ("0", "a", "1,-2"):
        with pytest.raises(argparse.ArgumentTypeError):
            coalition_list(bad)


def test_a_planner_evaluated_by_its_schedule_is_measured_and_exploited(tmp_path):
    """A planner run that evaluation plays by its installed schedule (one iteration: the
    planner has not acted yet) still has its objective, net welfare, and an exploiter's
    change to it; it used to fail with a missing 'objective'."""
    from coopsim import scenario as sc
    from coopsim.runner import run_scenario

    scenario = sc.load("demo_planner_matching")
    scenario.training.num_worlds = 8
    scenario.evaluation.episodes = 2
    run = run_scenario(scenario, seed=0, out=tmp_path / "runs", iterations=1)
    plan = Stress([run], [load_population("free_riders")], tmp_path / "stress", QUICK)
    frame = pd.read_parquet(plan.run(progress=False))
    objective = frame[frame["measure"] == "objective"]
    assert set(objective["population"]) >= {"in-distribution", "free_riders", "exploiter (1 seat)"}
    assert frame[frame["measure"] == "objective_change"]["mean"].notna().all()


def test_exploiters_may_be_limited_to_some_training_seeds(stress_runs, tmp_path):
    runs = [stress_runs["planner-s0"], stress_runs["planner-s1"]]
    config = StressConfig(episodes=2, coalitions=(1, 2), exploit_seeds=(0,))
    plan = Stress(runs, [], tmp_path, config)
    cells = {(run.seed, what) for run, what in plan.cells()}
    assert cells == {
        (0, "play"),
        (0, "exploit-1"),
        (0, "exploit-2"),
        (0, "warm-1"),
        (0, "warm-2"),
        (1, "play"),
    }
    from coopsim.cli import build_parser

    args = build_parser().parse_args(["stress", "r", "--out", "o", "--exploit-seeds", "0,2"])
    assert args.exploit_seeds == [0, 2]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["stress", "r", "--out", "o", "--exploit-seeds", "x"])


def test_runs_in_folders_of_their_own_named_alike_are_told_apart(stress_runs, tmp_path):
    # the regimes experiment names every training seed's run of a regime alike (-s0)
    import shutil

    from coopsim.builder import make_world

    runs = []
    for seed in (0, 1):
        folder = tmp_path / f"seed_{seed}" / "public_goods_matching_planner-s0"
        shutil.copytree(stress_runs[f"planner-s{seed}"], folder)
        runs.append(folder)
    plan = Stress(runs, [], tmp_path / "out", QUICK)
    world = make_world(plan.runs[0].scenario, 1)
    partners = [block.partner for block in plan.blocks(plan.runs[0], world)]
    assert partners == ["public_goods_matching_planner s0", "public_goods_matching_planner s1"]


def test_a_folder_from_before_exploiters_had_starts_resumes_as_fresh(stress_runs, tmp_path):
    import json

    from coopsim.cli import build_parser

    runs = [stress_runs["planner-s0"]]
    fresh = StressConfig(episodes=2, exploiter_iterations=1, exploiter_start="fresh")
    stress(runs, [], tmp_path, fresh, progress=False)
    manifest = json.loads((tmp_path / "stress.json").read_text())
    del manifest["config"]["exploiter_start"]  # as written before starts were chosen
    (tmp_path / "stress.json").write_text(json.dumps(manifest))
    stress(runs, [], tmp_path, fresh, progress=False)  # the same inputs: resumes
    with pytest.raises(ConfigError) as err:
        stress(runs, [], tmp_path, StressConfig(episodes=2, exploiter_iterations=1), progress=False)
    assert err.value.field == "config.exploiter_start"
    args = build_parser().parse_args(["stress", "r", "--out", "o", "--exploiter-start", "replaced"])
    assert args.exploiter_start == "replaced"
    assert build_parser().parse_args(["stress", "r", "--out", "o"]).exploiter_start == "both"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["stress", "r", "--out", "o", "--exploiter-start", "warm"])
