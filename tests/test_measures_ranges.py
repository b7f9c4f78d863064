"""Every measure declares its range, and no interval over it leaves that range."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from coopsim.intervals import t_interval, t_interval_columns
from coopsim.measures import MEASURES, interval

#: Units whose words state a range: the range they state.
STATED = {"(0-1)": (0.0, 1.0)}


def _values(bounds, draw_unit: np.ndarray) -> np.ndarray:
    """Random values inside ``bounds``, bunched at the bounds where intervals overshoot."""
    low, high = bounds
    low = -1e3 if low is None else low
    high = low + 2e3 if high is None else high
    return low + (high - low) * draw_unit


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from([0.0, 0.001, 0.01, 0.5, 0.99, 0.999, 1.0]) | st.floats(0, 1),
        min_size=1,
        max_size=12,
    )
)
def test_every_measure_interval_stays_in_its_range(units):
    for name, measure in MEASURES.items():
        values = _values(measure.bounds, np.asarray(units))
        iv = interval(name, values)
        low, high = measure.bounds
        assert iv.ci_low <= iv.mean + 1e-9 <= iv.ci_high + 2e-9, name
        if low is not None:
            assert iv.ci_low >= low and iv.mean >= low - 1e-12, (name, iv)
        if high is not None:
            assert iv.ci_high <= high and iv.mean <= high + 1e-12, (name, iv)


def test_a_share_near_its_bound_is_cut_where_the_plain_t_interval_overshoots():
    values = np.array([0.0, 0.0, 0.011])  # the 0.28% [-0.37, 0.93] kind of case
    plain = t_interval(values)
    assert plain.ci_low < 0  # what the cut is for
    cut = interval("contribution_rate", values)
    assert cut.ci_low == 0.0 and cut.ci_high == plain.ci_high and cut.mean == plain.mean
    mean, low, high = t_interval_columns(np.array([[0.99, 1.0], [1.0, 1.0]]), bounds=(0, 1))
    assert high.max() <= 1.0 and low.min() >= 0.0


def test_no_unit_promises_a_range_its_measure_does_not_declare():
    for name, measure in MEASURES.items():
        for words, stated in STATED.items():
            if words in measure.unit:
                assert measure.bounds == stated, (
                    f"{name}: unit says {words}, bounds {measure.bounds}"
                )
        match = re.search(r"\(0 to ", measure.unit)
        if match:
            assert measure.bounds[0] == 0.0, name


def test_efficiency_does_not_promise_a_share():
    eff = MEASURES["efficiency"]
    assert "(0-1)" not in eff.unit and eff.bounds == (None, None)
