"""The Design page's check (the one that says "Valid design") refuses what a scenario file may
not hold: a NaN, an infinity or an overflowing number, naming the field."""

from __future__ import annotations

import math

import pytest

from coopsim import scenario as sc
from coopsim.app import state


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (math.nan, ["got nan", "finite"]),
        (math.inf, ["got inf", "finite"]),
        (1e300, ["1e+300", "<= 1e+06"]),
    ],
)
def test_design_check_refuses_non_finite_endowments(value, words):
    data = sc.load("public_goods").to_dict()
    data["world"]["endowments"] = [value, 2.0, 2.0, 2.0]
    scenario, error = state.check(data)
    assert scenario is None
    assert error.startswith("design: world.endowments: element 0: ")
    for w in words:
        assert w in error, (w, error)
    data["world"]["endowments"] = [20.0, 2.0, 2.0, 2.0]
    scenario, error = state.check(data)
    assert error is None and scenario.world.endowments == [20.0, 2.0, 2.0, 2.0]
