"""Numbers are printed to the precision of their interval, never with float noise."""

from __future__ import annotations

import pytest

from coopsim.report import numbers


@pytest.mark.parametrize(
    ("mean", "low", "high", "text"),
    [
        (847.9999, 847.9999, 847.9999, "848 [848, 848]"),
        (1484.0001220703125, 1484.0001, 1484.0001, "1,484 [1,484, 1,484]"),
        (35.599998, 35.599998, 35.599998, "35.6 [35.6, 35.6]"),
        (0.9712, 0.9503, 0.9921, "0.971 [0.950, 0.992]"),
        (1040.0, 1005.2, 1074.8, "1,040 [1,005, 1,075]"),
        (0.030323, 0.030323, 0.030323, "0.0303 [0.0303, 0.0303]"),
        (-0.00001, -0.00001, -0.00001, "-0.000010 [-0.000010, -0.000010]"),
    ],
)
def test_estimate_rounds_to_the_interval(mean, low, high, text):
    assert numbers.estimate(mean, low, high) == text


def test_percent_and_gaps():
    assert numbers.percent(0.04, 0.02, 0.07) == "4.0% [2.0, 7.0]"
    assert numbers.number(float("nan"), 2) == ""
    assert numbers.number(-0.0001, 2) == "0.00"  # no "-0.00"
    assert numbers.decimals(1e-12, 0.0, 2e-12) <= numbers.MAX_DECIMALS
