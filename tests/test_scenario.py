"""Scenario files: every ready one loads; bad ones fail with one clear ConfigError."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from coopsim import builder, cli
from coopsim import scenario as sc
from coopsim.schema import ConfigError

GOOD = textwrap.dedent(
    """
    name = "pg"
    description = "test"

    [world]
    kind = "public_goods"
    num_agents = 4
    multiplier = 1.6

    [[mechanisms]]
    kind = "tax"
    rates = [0.1]

    [[mechanisms]]
    kind = "lump_sum"

    [[population]]
    policy = "conditional_cooperator"
    count = 3

    [[population]]
    policy = "free_rider"
    count = 1

    [evaluation]
    episodes = 4
    """
)


@pytest.mark.parametrize("name", sorted(sc.list_scenarios()))
def test_every_ready_scenario_loads_and_round_trips(name, tmp_path):
    scenario = sc.load(name)
    assert scenario.name == name
    assert scenario.description
    assert sum(g.count for g in scenario.population) == scenario.num_agents
    assert scenario.source and scenario.source.endswith(f"{name}.toml")
    # to_toml reloads to the same config
    path = tmp_path / f"{name}.toml"
    path.write_text(scenario.to_toml())
    again = sc.load(path)
    assert again.to_dict() == scenario.to_dict()
    assert again.world == scenario.world
    assert again.mechanisms == scenario.mechanisms
    assert again.population == scenario.population
    assert again.evaluation == scenario.evaluation


def test_scenario_list_matches_the_folder():
    files = sorted(p.stem for p in sc.SCENARIO_DIR.glob("*.toml"))
    assert sorted(sc.list_scenarios()) == files
    assert {"public_goods", "prisoners_dilemma", "stag_hunt"} <= set(files)


def test_good_file_loads(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    scenario = sc.load(path)
    assert scenario.mechanism_label == "tax+lump_sum"
    assert scenario.world.multiplier == 1.6
    assert scenario.evaluation.episodes == 4


ECONOMY_PLANNER = textwrap.dedent(
    """
    [world]
    kind = "economy"
    num_agents = 2

    [[mechanisms]]
    kind = "tax"
    brackets = [0.0, 10.0]
    rates = [0.0, 0.0]
    period = 100

    [[population]]
    policy = "ppo"
    count = 2

    [training]
    num_worlds = 16

    [planner]
    mechanism = "tax"
    period = 100
    group_size = 2
    """
)


def _bad(text_or_edit: str) -> str:
    return textwrap.dedent(text_or_edit)


# (name, TOML text, field named in the error, words that say what is allowed)
BAD = [
    (
        "unknown_top_level",
        "speed = 3\n" + GOOD,
        "speed",
        ["unknown key", "world", "mechanisms", "population"],
    ),
    (
        "unknown_world_key",
        GOOD.replace("multiplier = 1.6", "multiplier = 1.6\ngravity = 9.8"),
        "world.gravity",
        ["unknown key", "endowment", "multiplier"],
    ),
    (
        "wrong_type",
        GOOD.replace("multiplier = 1.6", 'multiplier = "high"'),
        "world.multiplier",
        ["'high'", "expected a number"],
    ),
    (
        "wrong_type_int",
        GOOD.replace("num_agents = 4", "num_agents = 4.5"),
        "world.num_agents",
        ["expected an integer"],
    ),
    (
        "wrong_type_list",
        GOOD.replace("rates = [0.1]", 'rates = "progressive"'),
        "mechanisms[0].rates",
        ["'progressive'", "expected a list of numbers"],
    ),
    (
        "wrong_type_list_item",
        GOOD.replace("rates = [0.1]", 'rates = [0.1, "x"]'),
        "mechanisms[0].rates[1]",
        ["'x'", "expected a number"],
    ),
    (
        "out_of_range",
        GOOD.replace("multiplier = 1.6", "multiplier = -1.0"),
        "world.multiplier",
        ["-1.0", "> 0"],
    ),
    (
        "out_of_range_mechanism",
        GOOD.replace('kind = "lump_sum"', 'kind = "lump_sum"\nshare = 1.5'),
        "mechanisms[1].share",
        ["1.5", ">= 0 and <= 1"],
    ),
    (
        "out_of_range_rate",
        GOOD.replace("rates = [0.1]", "rates = [2.0]"),
        "mechanisms[0].rates",
        ["2.0", "<= 1"],
    ),
    (
        "unknown_mechanism",
        GOOD.replace('kind = "lump_sum"', 'kind = "lottery"'),
        "mechanisms[1].kind",
        ["'lottery'", "'tax'", "'lump_sum'", "'matching'"],
    ),
    (
        "mechanism_not_applicable",
        _bad(
            """
            [world]
            kind = "matrix_game"
            num_agents = 2

            [[mechanisms]]
            kind = "matching"

            [[population]]
            policy = "tit_for_tat"
            count = 2
            """
        ),
        "mechanisms[0].kind",
        ["'matching'", "'matrix_game'", "public_goods"],
    ),
    (
        "population_count",
        GOOD.replace("count = 3", "count = 2"),
        "population",
        ["3", "num_agents is 4"],
    ),
    (
        "unknown_policy",
        GOOD.replace('policy = "free_rider"', 'policy = "saint"'),
        "population[1].policy",
        ["'saint'", "'free_rider'", "'tit_for_tat'"],
    ),
    (
        "bad_policy_param_name",
        GOOD.replace(
            'policy = "conditional_cooperator"',
            'policy = "conditional_cooperator"\nparams = { generosity = 2 }',
        ),
        "population[0].params.generosity",
        ["unknown key", "initial"],
    ),
    (
        "bad_policy_param_value",
        GOOD.replace(
            'policy = "conditional_cooperator"',
            'policy = "conditional_cooperator"\nparams = { initial = 2.0 }',
        ),
        "population[0].params.initial",
        ["2.0", "<= 1"],
    ),
    (
        "params_for_a_policy_without_any",
        GOOD.replace('policy = "free_rider"', 'policy = "free_rider"\nparams = { x = 1 }'),
        "population[1].params",
        ["takes no parameters"],
    ),
    (
        "planner_on_a_saez_tax",
        GOOD.replace("rates = [0.1]", 'schedule = "saez"') + '\n[planner]\nmechanism = "tax"\n',
        "planner.controls",
        ["'saez'", "sets its own rates"],
    ),
    ("bad_syntax", GOOD.replace("[world]", "[world"), "(syntax)", ["not valid TOML"]),
    (
        "missing_world",
        GOOD.split("[world]")[0] + "[[population]]\npolicy = 'free_rider'\ncount = 4\n",
        "world",
        ["missing", "[world]"],
    ),
    (
        "unknown_world_kind",
        GOOD.replace('kind = "public_goods"', 'kind = "ocean"'),
        "world.kind",
        ["'ocean'", "'public_goods'", "'matrix_game'"],
    ),
    (
        "missing_population",
        GOOD.split("[[population]]")[0],
        "population",
        ["missing", "policy"],
    ),
    (
        "bad_evaluation",
        GOOD.replace("episodes = 4", "episodes = 0"),
        "evaluation.episodes",
        [">= 1"],
    ),
    (
        "planner_groups_in_a_world_without_copies",
        '[world]\nkind = "matrix_game"\n[[mechanisms]]\nkind = "tax"\nrates = [0.1]\n'
        '[[population]]\npolicy = "ppo"\ncount = 2\n[planner]\nmechanism = "tax"\ngroup_size = 2\n',
        "planner.group_size",
        ["got 2", "'matrix_game' world cannot be copied", "use 1", "'economy'"],
    ),
    (
        "planner_groups_that_do_not_divide_the_worlds",
        ECONOMY_PLANNER.replace("group_size = 2", "group_size = 3"),
        "planner.group_size",
        ["got 3", "divide training.num_worlds (16)"],
    ),
    (
        "planner_period_inside_a_tax_period",
        ECONOMY_PLANNER.replace("period = 100\ngroup_size", "period = 150\ngroup_size"),
        "planner.period",
        ["got 150", "multiple of the tax mechanism's period (100)"],
    ),
    (
        "custom_game_without_table",
        _bad(
            """
            [world]
            kind = "matrix_game"
            game = "custom"
            num_agents = 2

            [[population]]
            policy = "random"
            count = 2
            """
        ),
        "world",
        ["cooperate", "num_agents = 2"],
    ),
]


@pytest.mark.parametrize(("name", "text", "field", "allowed"), BAD, ids=[b[0] for b in BAD])
def test_bad_files_fail_with_one_clear_error(tmp_path, name, text, field, allowed):
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        sc.load(path)
    err = info.value
    assert type(err) is ConfigError
    assert err.source == str(path)
    assert err.field == field
    message = str(err)
    assert message.startswith(f"{path}: {field}: ")
    for word in allowed:
        assert word in message, (word, message)
    assert err.__cause__ is None or not isinstance(err.__cause__, ConfigError)


@pytest.mark.parametrize(("name", "text", "field", "allowed"), BAD[:6], ids=[b[0] for b in BAD[:6]])
def test_cli_run_writes_nothing_for_a_bad_file(tmp_path, capsys, name, text, field, allowed):
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    out = tmp_path / "runs"
    code = cli.main(["run", str(path), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert field in captured.err and str(path) in captured.err
    assert "Traceback" not in captured.err
    assert not out.exists() or not any(out.iterdir())


def test_unknown_scenario_name_lists_the_known_ones():
    with pytest.raises(ConfigError) as info:
        sc.resolve_path("no_such_scenario")
    assert "public_goods" in str(info.value)
    with pytest.raises(ConfigError, match="no such scenario file"):
        sc.resolve_path(Path("/nonexistent/x.toml"))


def test_make_world_and_population_follow_the_file(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    scenario = sc.load(path)
    world = builder.make_world(scenario, batch_size=3)
    assert world.batch_size == 3
    assert [m.kind for m in world.pipeline] == ["tax", "lump_sum"]
    population = builder.make_population(scenario, world)
    assert population.agent_policy == ["conditional_cooperator"] * 3 + ["free_rider"]


def test_economy_planner_in_groups_loads(tmp_path):
    path = tmp_path / "grouped.toml"
    path.write_text(ECONOMY_PLANNER)
    assert sc.load(path).planner.group_size == 2


def test_a_liquid_tax_cap_outside_the_economy_is_refused_at_load():
    """A tax capped at coin held needs a world that reports it: refused when the scenario
    loads, naming the field, not in the first round of a run."""
    data = sc.load("public_goods").to_dict()
    data["mechanisms"] = [{"kind": "tax", "cap": "liquid"}]
    with pytest.raises(ConfigError) as info:
        sc.from_dict(data, source="x.toml")
    assert info.value.field == "mechanisms[0].cap" and "economy" in info.value.problem
