"""The interval policy against textbook values."""

from __future__ import annotations

import numpy as np
import pytest

from coopsim.intervals import paired_difference, t_interval, t_interval_columns, zero_width_reason


def test_t_interval_matches_the_textbook():
    # Mean 2, s = 1, n = 3: t(0.975, 2) = 4.302653, half width 4.302653 / sqrt(3) = 2.484138.
    iv = t_interval(np.array([1.0, 2.0, 3.0]))
    assert iv.mean == 2.0 and iv.std == 1.0 and iv.n == 3
    assert iv.ci_low == pytest.approx(2 - 2.484138, abs=1e-6)
    assert iv.ci_high == pytest.approx(2 + 2.484138, abs=1e-6)


def test_one_unit_or_no_spread_has_zero_width_and_says_why():
    one = t_interval(np.array([5.0]))
    assert (one.ci_low, one.ci_high) == (5.0, 5.0)
    assert "one unit" in zero_width_reason(one.n, one.std)
    same = t_interval(np.full(8, 908.0))
    assert (same.ci_low, same.ci_high) == (908.0, 908.0)
    assert "same value" in zero_width_reason(same.n, same.std)
    assert zero_width_reason(3, 1.0) is None


def test_columns_agree_with_one_at_a_time():
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(7, 3))
    mean, lo, hi = t_interval_columns(matrix)
    for k in range(3):
        iv = t_interval(matrix[:, k])
        assert (mean[k], lo[k], hi[k]) == pytest.approx((iv.mean, iv.ci_low, iv.ci_high))


def test_paired_difference_removes_what_units_share():
    shared = np.array([0.0, 100.0, 200.0, 300.0])
    iv = paired_difference(shared + 1.0, shared)
    assert (iv.mean, iv.ci_low, iv.ci_high) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="differ in number"):
        paired_difference(np.ones(3), np.ones(4))


def test_bad_level_is_refused():
    with pytest.raises(ValueError, match="level"):
        t_interval(np.ones(3), level=1.5)
