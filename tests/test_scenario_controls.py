"""A planner's controls are checked when a scenario loads: one error naming planner.controls,
the bad entry and what is allowed."""

from __future__ import annotations

import pytest

from coopsim import scenario as sc
from coopsim.schema import ConfigError

MATCHING = """
[world]
kind = "public_goods"
[[mechanisms]]
kind = "matching"
[[mechanisms]]
kind = "sanction_institution"
[[mechanisms]]
kind = "lump_sum"
[[population]]
policy = "ppo"
count = 4
[planner]
"""


def load(tmp_path, planner: str):
    path = tmp_path / "x.toml"
    path.write_text(MATCHING + planner)
    return sc.load(path)


def test_controls_resolve_with_declared_or_narrowed_ranges(tmp_path):
    scenario = load(tmp_path, 'controls = ["matching.rate", "sanction_institution.threshold"]\n')
    targets = sc.resolve_controls(scenario.planner, scenario.mechanisms)
    assert [(t.name, t.index, t.low, t.high) for t in targets] == [
        ("matching.rate", 0, 0.0, 100.0),  # MatchingParams.rate: ge=0, le=100
        ("sanction_institution.threshold", 1, 0.0, 1.0),
    ]
    scenario = load(
        tmp_path, 'controls = ["matching#0.rate"]\ngrid = {"matching#0.rate" = [0, 4]}\n'
    )
    (target,) = sc.resolve_controls(scenario.planner, scenario.mechanisms)
    assert (target.low, target.high) == (0.0, 4.0)


def test_the_older_form_is_every_control_of_the_mechanism():
    scenario = sc.load("tax_one_step_ai_planner")
    scenario.planner.controls, scenario.planner.mechanism = [], "tax"
    scenario.planner.validate()
    (target,) = sc.resolve_controls(scenario.planner, scenario.mechanisms)
    assert (target.name, target.width) == ("tax.rates", 7)


@pytest.mark.parametrize(
    ("planner", "field", "words"),
    [
        (
            'controls = ["subsidy.rate"]',
            "planner.controls",
            ["'subsidy.rate'", "no 'subsidy'", "allowed: matching.rate"],
        ),
        ('controls = ["matching.speed"]', "planner.controls", ["'speed' is not a parameter"]),
        ('controls = ["lump_sum.share"]', "planner.controls", ["no parameters a planner can set"]),
        (
            'controls = ["sanction_institution.fine"]',
            "planner.controls",
            ["no upper bound", "[planner.grid]"],
        ),
        ('controls = ["matching#1.rate"]', "planner.controls", ["is not a 'matching'"]),
        (
            'controls = ["matching.rate"]\ngrid = {"matching.rate" = [0, 200]}',
            "planner.grid.matching.rate",
            ["[low, high]"],
        ),
        (
            'controls = ["matching.rate"]\ngrid = {"matching.fee" = [0, 1]}',
            "planner.grid.matching.fee",
            ["not one of planner.controls"],
        ),
        (
            'controls = ["matching.rate"]\nobjective = "votes"\nbaseline = "libertarian"',
            "planner.baseline",
            ["sets no 'matching.rate'"],
        ),
        ('controls = ["matching.rate"]\nobjective = "votes"', "planner", ["needs a baseline"]),
    ],
)
def test_bad_controls_fail_at_load(tmp_path, planner, field, words):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, planner + "\n")
    assert info.value.field == field
    for word in words:
        assert word in str(info.value)
