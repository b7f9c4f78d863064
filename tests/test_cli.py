"""The coopsim command, in process (main([...]) with capsys) and once as the real script."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from coopsim import cli
from coopsim import scenario as sc
from coopsim.measures import MEASURES
from coopsim.record import load_run

METRICS = (
    "gini",
    "equality",
    "atkinson",
    "theil",
    "productivity",
    "utilitarian_welfare",
    "nash_welfare",
    "rawls_welfare",
    "equality_times_productivity",
    "contribution_rate",
    "efficiency",
)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def pg_runs(tmp_path_factory) -> tuple[Path, Path, Path]:
    """public_goods at seed 3 twice, and prisoners_dilemma at seed 3 (all 8 episodes)."""
    out = tmp_path_factory.mktemp("runs")
    paths = []
    for name in ("public_goods", "public_goods", "prisoners_dilemma"):
        code = cli.main(["run", name, "--seed", "3", "--out", str(out), "--episodes", "8"])
        assert code == 0
        paths.append(sorted(out.iterdir(), key=lambda p: p.stat().st_mtime_ns)[-1])
    return tuple(paths)


def test_list_shows_every_scenario_with_its_description(capsys):
    code, out, err = run_cli(capsys, "list")
    assert code == 0 and err == ""
    lines = out.strip().splitlines()
    names = sc.list_scenarios()
    assert len(lines) == len(names)
    for line, (name, path) in zip(lines, names.items()):
        assert line.startswith(name + " ")
        loaded = sc.load(path)
        assert loaded.description in line
        assert f" {'learning' if loaded.learns else 'scripted'} " in line
        assert "(invalid" not in line


def test_run_writes_a_complete_run_directory(capsys, tmp_path):
    code, out, err = run_cli(capsys, "run", "public_goods", "--seed", "3", "--out", str(tmp_path))
    assert code == 0
    path = Path(out.strip().splitlines()[-1])
    assert path.parent == tmp_path and path.is_dir()
    assert path.name.startswith("public_goods-") and path.name.endswith("-s3")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no staging left behind
    assert {"scenario.toml", "summary.json", "episodes.parquet"} <= {p.name for p in path.iterdir()}
    # the resolved scenario reloads to the same config, with the seed the run used
    expected = sc.load("public_goods")
    expected.evaluation.seed = 3
    assert sc.load(path / "scenario.toml").to_dict() == expected.to_dict()
    summary = json.loads((path / "summary.json").read_text())
    assert summary["scenario"] == "public_goods" and summary["seed"] == 3
    assert summary["mechanism"] == "none"
    for metric in METRICS:
        stats = summary["metrics"][metric]
        assert stats["ci_low"] <= stats["mean"] <= stats["ci_high"], metric
        assert stats["n"] == 32
    episodes = pd.read_parquet(path / "episodes.parquet")
    # tidy: one row per episode x round x agent (32 episodes x 10 rounds x 4 agents)
    assert len(episodes) == 32 * 10 * 4
    assert not episodes.duplicated(["episode", "round", "agent"]).any()
    assert {"episode", "round", "agent", "policy", "contribution", "gross", "net"} <= set(
        episodes.columns
    )
    assert sorted(episodes["round"].unique()) == list(range(10))
    # free rider in seat 3 never contributes; all-cooperate optimum is 4 * 32 * 10 = 1280
    assert (episodes.loc[episodes["agent"] == 3, "contribution"] == 0).all()
    wealth = episodes.groupby("episode")["net"].sum()
    assert summary["metrics"]["productivity"]["mean"] == pytest.approx(wealth.mean(), rel=1e-6)
    assert summary["metrics"]["efficiency"]["mean"] == pytest.approx(wealth.mean() / 1280, rel=1e-6)


def test_same_seed_gives_the_same_numbers(pg_runs):
    a, b, _ = pg_runs
    assert a != b  # two directories, not one overwritten
    sa = json.loads((a / "summary.json").read_text())
    sb = json.loads((b / "summary.json").read_text())
    assert sa["metrics"] == sb["metrics"]
    pd.testing.assert_frame_equal(
        pd.read_parquet(a / "episodes.parquet"), pd.read_parquet(b / "episodes.parquet")
    )


def test_seed_changes_a_random_population(tmp_path, capsys):
    paths = []
    for seed in ("3", "3", "4"):
        code, out, _ = run_cli(
            capsys,
            "run",
            "prisoners_dilemma",
            "--seed",
            seed,
            "--out",
            str(tmp_path),
            "--episodes",
            "4",
        )
        assert code == 0
        paths.append(Path(out.strip().splitlines()[-1]))
    frames = [pd.read_parquet(p / "episodes.parquet") for p in paths]
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert not frames[0]["contribution"].equals(frames[2]["contribution"])


def test_compare_by_run_prints_a_side_by_side_table(capsys, pg_runs):
    a, b, pd_run = pg_runs
    code, out, err = run_cli(capsys, "compare", "--by", "run", str(a), str(pd_run))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert "95% CI" in lines[0]
    header = lines[1]
    assert "public_goods" in header and "prisoners_dilemma" in header
    # every measure of the registry the runs have, in the registry's order
    have = set(load_run(a).summary["metrics"]) | set(load_run(pd_run).summary["metrics"])
    shown = [line.split()[0] for line in lines[2:] if line and not line.startswith("*")]
    assert shown == [m for m in MEASURES if m in have]
    assert {"objective", "contribution_rate", "gini"} <= set(shown)
    for metric in shown:
        row = next(line for line in lines if line.startswith(metric + " "))
        assert row.count("[") == 2  # one 'mean [lo, hi]' per run
    # public_goods' scripted players end every episode alike: a zero-width interval, marked,
    # and a note that says why; the prisoners' dilemma's random players vary
    stored = load_run(a).summary["metrics"]["productivity"]
    assert stored["ci_low"] == stored["ci_high"]
    row = next(line for line in lines if line.startswith("productivity "))
    first, second = row.split("]", 1)[1], row.split("]", 2)[2]
    assert first.split()[0] == "*" and "*" not in second  # public_goods' cell only
    assert lines[-1] == (
        "* every unit gave the same value (deterministic policies in identical worlds)"
    )
    # two runs of the same scenario get a column each
    code, out, _ = run_cli(capsys, "compare", "--by", "run", str(a), str(b))
    assert code == 0
    assert a.name in out and b.name in out
    row = next(line for line in out.splitlines() if line.startswith("productivity "))
    assert row.count("[") == 2


def test_compare_with_glob_and_missing(capsys, pg_runs, tmp_path):
    a, _, _ = pg_runs
    code, out, _ = run_cli(capsys, "compare", str(a.parent / "*"))
    assert code == 0 and "per rule" in out  # rules by default
    code, _, err = run_cli(capsys, "compare", str(tmp_path / "nothing-*"))
    assert code == 2 and "no run directories" in err
    code, _, err = run_cli(capsys, "compare", str(tmp_path))
    assert code == 2 and "not a coopsim run directory" in err and "Traceback" not in err


def test_bad_scenario_exits_2_with_the_message(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        (sc.SCENARIO_DIR / "public_goods.toml")
        .read_text()
        .replace("multiplier = 1.6", "multiplier = 0")
    )
    out_dir = tmp_path / "runs"
    code, out, err = run_cli(capsys, "run", str(bad), "--out", str(out_dir))
    assert code == 2
    assert out == ""
    assert err.strip() == f"error: {bad}: world.multiplier: got 0.0, must be > 0 and <= 1000"
    assert not out_dir.exists()
    code, _, err = run_cli(capsys, "run", "no_such_scenario", "--out", str(out_dir))
    assert code == 2 and "known scenarios" in err and "public_goods" in err


@pytest.mark.parametrize("kind", ["[]", "{ a = 1 }", "3"])
def test_a_world_kind_that_is_not_a_string_is_one_error(capsys, tmp_path, kind):
    bad = tmp_path / "bad.toml"
    text = (sc.SCENARIO_DIR / "public_goods.toml").read_text()
    bad.write_text(text.replace('kind = "public_goods"', f"kind = {kind}"))
    code, out, err = run_cli(capsys, "run", str(bad), "--out", str(tmp_path / "runs"))
    assert code == 2 and out == ""
    assert err.startswith(f"error: {bad}: world.kind: got ") and "allowed: " in err
    assert len(err.strip().splitlines()) == 1


def test_a_negative_seed_is_refused(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "public_goods", "--seed", "-1", "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert "--seed: got -1, must be >= 0" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("command", ["compare", "report"])
def test_a_missing_path_is_named_as_missing(capsys, tmp_path, command):
    code, _, err = run_cli(capsys, command, str(tmp_path / "nowhere"))
    assert code == 2
    assert err.strip() == f"error: {tmp_path / 'nowhere'}: no such file or directory"


@pytest.mark.parametrize("command", ["compare", "report"])
def test_a_corrupt_summary_is_one_line_naming_the_file(capsys, pg_runs, tmp_path, command):
    import shutil

    run = shutil.copytree(pg_runs[0], tmp_path / pg_runs[0].name)
    (run / "summary.json").write_text('{"metrics": {')
    argv = [command, str(run)] + (["-o", str(tmp_path / "r.html")] if command == "report" else [])
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith(f"error: {run / 'summary.json'}: (syntax): not valid JSON")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["compare", "report"])
def test_app_folders_in_the_runs_folder_are_skipped_with_a_note(capsys, pg_runs, tmp_path, command):
    """What the shell makes of `runs/*` once the app has written designs and reports."""
    import shutil

    runs = tmp_path / "runs"
    for run in pg_runs[:2]:
        shutil.copytree(run, runs / run.name)
    (runs / "designs").mkdir()
    (runs / "designs" / "public_goods.toml").write_text("name = 'x'")
    (runs / "reports").mkdir()
    named = sorted(str(p) for p in runs.iterdir())
    argv = [command, *named] + (["-o", str(tmp_path / "r.html")] if command == "report" else [])
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert f"{runs / 'designs'}: skipped, not a coopsim run directory" in err
    assert f"{runs / 'reports'}: skipped, not a coopsim run directory" in err
    assert "Traceback" not in err


def test_console_script_runs_for_real(tmp_path):
    script = Path(sys.executable).with_name("coopsim")
    assert script.exists(), script
    proc = subprocess.run(
        [
            str(script),
            "run",
            "public_goods",
            "--seed",
            "3",
            "--out",
            str(tmp_path),
            "--episodes",
            "4",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.strip().splitlines()[-1])
    assert path.is_dir() and (path / "summary.json").exists()
    assert path.parent == tmp_path
    assert json.loads((path / "summary.json").read_text())["seed"] == 3


@pytest.mark.parametrize("episodes", ["0", "-2", "many"])
def test_run_refuses_a_bad_episode_count(capsys, tmp_path, episodes):
    out_dir = tmp_path / "runs"
    with pytest.raises(SystemExit) as info:
        cli.main(["run", "public_goods", "--episodes", episodes, "--out", str(out_dir)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--episodes" in err and ">= 1" in err and "Traceback" not in err
    assert not out_dir.exists()


def test_run_directory_records_the_overrides_it_ran_with(tmp_path):
    from coopsim import scenario as sc
    from coopsim.runner import run_scenario

    path = run_scenario(sc.load("public_goods"), seed=5, episodes=3, out=tmp_path)
    again = sc.load(path / "scenario.toml")
    assert again.evaluation.episodes == 3 and again.evaluation.seed == 5


@pytest.mark.slow
def test_demo_trains_every_rule_and_says_what_changed(capsys, tmp_path):
    """One training seed per rule: learners free ride without a rule and respond to the rest,
    and the planner's chosen rule is named beside the best one on its grid."""
    from coopsim.experiments.demo import ARMS

    code, out, err = run_cli(
        capsys, "demo", "--seeds", "0", "--workers", "1", "--out", str(tmp_path)
    )
    assert code == 0, err
    assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == len(ARMS)
    assert "zero width: one unit only: no spread to measure" in out  # one seed: said, not hidden
    lines = [line[2:] for line in out.splitlines() if line.startswith("- ")]
    assert lines[0].startswith("With no mechanism the learners contributed ")
    for name, line in zip(list(ARMS)[1:], lines[1:]):
        assert " This raised the learners' contributions from " in line, (name, line)
    designed = next(line for line in lines if line.startswith("A learning planner"))
    assert "set matching.rate (one of 0, 1, 2, 3, 4) and chose " in designed
    assert "the best rule on that grid with agents at equilibrium is 2." in designed
    for label in ARMS:  # each rule's result was shown as soon as it finished, with its time
        line = next(x for x in (out + err).splitlines() if f"{label}: learners contributed " in x)
        assert re.search(r"over 1 training seeds \(trained \d+\.\d s\)", line), line
    assert re.search(rf"{len(ARMS)} runs trained and evaluated in \d+ s, 1 at a time", out)
    assert f"{len(ARMS)}/{len(ARMS)}" in err  # the progress bar counted every run
