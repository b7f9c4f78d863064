"""Stress settings files: the shipped default is the command's defaults, every option round
trips, every mistake is named by file and field, typed flags win, and ``coopsim stress
--config`` runs and resumes on what ``stress.json`` recorded."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import tomli_w

from coopsim.cli import build_parser, main
from coopsim.cli.stress import given_options
from coopsim.schema import ConfigError
from coopsim.stress.driver import CELLS, MANIFEST, StressConfig
from coopsim.stress.settings import (
    OPTIONS,
    SETTINGS_DIR,
    StressSettings,
    load_settings,
    resolve,
    settings_from_dict,
)


def stress_args(*flags: str):
    return build_parser().parse_args(["stress", "r", "--out", "o", *flags])


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# -- the shipped file and the command's defaults ---------------------------------------------
def test_the_shipped_default_file_is_exactly_the_commands_defaults():
    shipped = load_settings("default")
    assert shipped == load_settings(SETTINGS_DIR / "default.toml")
    assert shipped == StressSettings()
    args = stress_args()
    assert given_options(args) == {}  # nothing typed
    for name in OPTIONS:  # each flag's default is the file's value
        assert getattr(args, name) == getattr(shipped, name), name
    assert resolve(given_options(args)) == shipped
    assert shipped.config() == StressConfig()


def test_a_settings_file_has_a_key_for_every_option_of_the_command():
    parser = build_parser()
    (stress,) = [
        a.choices["stress"] for a in parser._subparsers._group_actions if "stress" in a.choices
    ]
    flags = {a.dest for a in stress._actions if a.option_strings and a.dest != "help"}
    # what to stress and where stay on the command line; --fresh is an action, not a setting
    assert flags - {"out", "config", "fresh"} == set(OPTIONS)


# -- round trip ------------------------------------------------------------------------------
def test_every_option_round_trips_through_a_file(tmp_path):
    chosen = StressSettings(
        populations=["fgf2001", "free_riders"],
        partners=["runs/a-*"],
        episodes=8,
        seed=3,
        coalitions=[1, 2],
        exploiter_iterations=5,
        exploiter_start="replaced",
        cross_seeds=1,
        exploit_seeds=[0, 2],
    )
    assert all(getattr(chosen, n) != getattr(StressSettings(), n) for n in OPTIONS)
    path = tmp_path / "stress.toml"
    path.write_text(tomli_w.dumps({"stress": dataclasses.asdict(chosen)}))
    loaded = load_settings(path)
    assert loaded == chosen
    assert loaded.config() == StressConfig(
        episodes=8,
        seed=3,
        coalitions=(1, 2),
        exploiter_iterations=5,
        exploiter_start="replaced",
        cross_seeds=1,
        exploit_seeds=(0, 2),
    )
    # keys left out take the defaults; [] is kept apart from "left out" for populations
    few = load_settings(write(tmp_path / "few.toml", "[stress]\npopulations = []\n"))
    assert few.populations == [] and StressSettings().populations is None
    assert dataclasses.replace(few, populations=None) == StressSettings()


# -- errors: the file, the field, what is allowed -------------------------------------------
@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ("[stress]\nepisode = 4\n", "stress.episode", "unknown key; allowed keys here: populations"),
        ("[stresss]\nepisodes = 4\n", "stresss", "allowed top-level keys: stress"),
        ("episodes = 4\n", "episodes", "allowed top-level keys: stress"),
        ("", "stress", "missing; expected a [stress] table"),
        ("[stress]\nepisodes = \"32\"\n", "stress.episodes", "expected an integer"),
        ("[stress]\ncoalitions = 1\n", "stress.coalitions", "expected a list of integers"),
        ("[stress]\npopulations = \"fgf2001\"\n", "stress.populations", "a list of strings"),
        ("[stress]\nexploiter_start = \"warm\"\n", "stress.exploiter_start",
         "allowed: one of 'fresh', 'replaced', 'both'"),
        ("[stress]\nepisodes = 0\n", "stress.episodes", "got 0, must be >= 1"),
        ("[stress]\ncoalitions = [1, 0]\n", "stress.coalitions", "element 1: got 0, must be >= 1"),
        ("[stress]\nexploit_seeds = [-1]\n", "stress.exploit_seeds", "must be >= 0"),
        ("[stress]\ncross_seeds = -2\n", "stress.cross_seeds", "must be >= 0"),
        ("[stress]\nexploit_seeds = [0, 0]\n", "stress.exploit_seeds", "must be distinct"),
        ("[stress]\npopulations = [\"fgf2001\", \"nobody\"]\n", "stress.populations",
         "element 1: 'nobody': no such population; known populations: altruists_and_free_riders"),
        ("[stress\n", "(syntax)", "not valid TOML"),
    ],
)  # fmt: skip
def test_each_mistake_names_the_file_and_the_field(tmp_path, body, field, words):
    path = write(tmp_path / "mine.toml", body)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert err.value.source == str(path)
    assert err.value.field == field
    assert words in err.value.problem
    assert str(err.value).startswith(f"{path}: {field}: ")


def test_a_missing_settings_file_or_name_is_refused_with_the_shipped_names(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "absent.toml")
    assert err.value.problem == "no such stress setting file"
    with pytest.raises(ConfigError) as err:
        load_settings("defualt")
    assert err.value.problem == "no such stress setting; known stress settings: default"


def test_the_command_prints_a_bad_file_as_one_line_without_a_traceback(tmp_path, capsys):
    path = write(tmp_path / "bad.toml", '[stress]\nexploiter_start = "warm"\n')
    assert main(["stress", "nowhere", "--config", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"error: {path}: stress.exploiter_start: got 'warm', allowed: one of 'fresh', "
        "'replaced', 'both'"
    ]
    assert not (tmp_path / "o").exists()  # refused before anything was written


# -- precedence ------------------------------------------------------------------------------
def test_flags_typed_on_the_command_line_override_the_files_values(tmp_path):
    path = write(
        tmp_path / "s.toml",
        '[stress]\nepisodes = 8\ncoalitions = [1, 2]\nexploiter_start = "fresh"\nseed = 5\n',
    )
    args = stress_args("--config", str(path), "--episodes", "4", "--coalitions", "")
    assert given_options(args) == {"episodes": 4, "coalitions": []}
    settings = resolve(given_options(args), load_settings(path))
    assert settings.episodes == 4 and settings.coalitions == []  # typed: the flag's
    assert settings.exploiter_start == "fresh" and settings.seed == 5  # not typed: the file's
    assert settings.exploiter_iterations == 30  # in neither: the default
    # a flag typed with its default value still wins over the file
    again = stress_args("--config", str(path), "--exploiter-start", "both", "--populations")
    settings = resolve(given_options(again), load_settings(path))
    assert settings.exploiter_start == "both" and settings.populations == []
    with pytest.raises(ConfigError, match="not a stress option"):
        resolve({"episode": 4})


def test_settings_from_plain_data_name_no_file_when_there_is_none():
    for table, field in (({"coalitions": [2, 2]}, "coalitions"), ({"episodes": 1.5}, "episodes")):
        with pytest.raises(ConfigError) as err:
            settings_from_dict({"stress": table})
        assert err.value.source is None and err.value.field == f"stress.{field}"


# -- end to end ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    from coopsim import scenario as sc
    from coopsim.runner import run_scenario

    scenario = sc.load("public_goods_learning")
    scenario.training.num_worlds = 8
    scenario.evaluation.episodes = 2
    return run_scenario(scenario, seed=0, out=tmp_path_factory.mktemp("runs"), iterations=1)


def test_the_command_runs_from_a_file_records_it_and_resumes_on_it(tiny_run, tmp_path, capsys):
    import pandas as pd

    path = write(
        tmp_path / "stress.toml",
        '[stress]\npopulations = ["free_riders"]\nepisodes = 3\ncoalitions = [1]\n'
        'exploiter_iterations = 1\nexploiter_start = "fresh"\n',
    )
    out = tmp_path / "out"
    assert main(["stress", str(tiny_run), "--config", str(path), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out / "stress.parquet")
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["config"]["episodes"] == 3
    assert manifest["config"]["exploiter_start"] == "fresh"
    assert manifest["config"]["coalitions"] == [1]
    assert [p["name"] for p in manifest["populations"]] == ["free_riders"]
    frame = pd.read_parquet(out / "stress.parquet")
    assert set(frame["population"]) == {"in-distribution", "free_riders", "exploiter (1 seat)"}
    assert (frame[frame["measure"] == "objective"]["n"] == 3).all()  # the file's episodes
    # the same settings as flags: the folder resumes, nothing is recomputed
    cells = sorted((out / CELLS).iterdir())
    stamps = [p.stat().st_mtime_ns for p in cells]
    flags = ["--populations", "free_riders", "--episodes", "3", "--exploiter-iterations", "1",
             "--exploiter-start", "fresh"]  # fmt: skip
    assert main(["stress", str(tiny_run), *flags, "--out", str(out)]) == 0
    assert [p.stat().st_mtime_ns for p in cells] == stamps
    capsys.readouterr()
    # the file with a flag over it asks for other settings: refused as any other change is
    assert main(["stress", str(tiny_run), "--config", str(path), "--episodes", "4",
                 "--out", str(out)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert f"{out / MANIFEST}: config.episodes:" in err
    assert "(3 there, 4 asked)" in err and "--fresh" in err
    assert "Traceback" not in err


def test_the_documented_example_file_loads_as_written(tmp_path):
    """The settings file docs/stress.md shows is one the loader takes."""
    import re

    page = (Path(__file__).resolve().parents[2] / "docs" / "stress.md").read_text()
    section = page[page.index("## Settings files") :]
    (example,) = re.findall(r"```toml\n(.*?)```", section[: section.index("\n## ", 3)], re.S)
    settings = load_settings(write(tmp_path / "stress.toml", example))
    assert settings.coalitions == [1, 2] and settings.exploit_seeds == [0]
    assert set(OPTIONS) <= set(re.findall(r"^(\w+) =", example, re.M))  # every key shown
