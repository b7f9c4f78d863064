"""Numbers as a report prints them: to the precision their interval supports, and no further.

A mean printed with eight digits claims a precision the data do not have, and float32 sums
print as ``847.9999`` or ``1484.0001``. The digits shown follow the interval: the half-width
keeps two significant digits and the mean and bounds are rounded to the same place. An
interval of zero width (deterministic policies, one unit) has no precision to follow, so its
mean keeps :data:`ZERO_WIDTH_SIGNIFICANT` significant digits, which also rounds float noise
away.
"""

from __future__ import annotations

import math

#: Significant digits of the half-width that set where a mean and its bounds are rounded.
HALF_WIDTH_SIGNIFICANT = 2
#: Significant digits of a mean whose interval has no width (or is unknown).
ZERO_WIDTH_SIGNIFICANT = 3
#: Never more decimals than this, however narrow the interval.
MAX_DECIMALS = 6


def _decimals_for_significant(value: float, significant: int) -> int:
    if value == 0 or not math.isfinite(value):
        return 0
    return max(0, significant - 1 - math.floor(math.log10(abs(value))))


def decimals(mean: float, low: float | None = None, high: float | None = None) -> int:
    """How many decimals ``mean`` and its interval ``[low, high]`` are printed with.

    >>> decimals(0.9712, 0.9503, 0.9921)
    3
    >>> decimals(1484.0001, 1484.0001, 1484.0001)
    0
    >>> decimals(0.030323)
    4
    """
    half = (high - low) / 2 if low is not None and high is not None else 0.0
    if math.isfinite(half) and half > 0:
        places = _decimals_for_significant(half, HALF_WIDTH_SIGNIFICANT)
    else:
        places = _decimals_for_significant(mean, ZERO_WIDTH_SIGNIFICANT)
    return min(places, MAX_DECIMALS)


def number(value: float, places: int) -> str:
    """``value`` with ``places`` decimals and thousands separators; a gap for NaN."""
    if value is None or not math.isfinite(value):
        return ""
    text = f"{value:,.{places}f}"
    rounds_to_zero = float(text.replace(",", "")) == 0
    return text.removeprefix("-") if rounds_to_zero else text  # never "-0.00"


def estimate(mean: float, low: float, high: float) -> str:
    """``mean [low, high]``, every number to the interval's precision.

    >>> estimate(1484.0001220703125, 1484.0001220703125, 1484.0001220703125)
    '1,484 [1,484, 1,484]'
    >>> estimate(0.9712, 0.9503, 0.9921)
    '0.971 [0.950, 0.992]'
    """
    places = decimals(mean, low, high)
    return f"{number(mean, places)} [{number(low, places)}, {number(high, places)}]"


def percent(mean: float, low: float, high: float) -> str:
    """A share (0-1) as ``97% [95, 99]``: percentages, to the interval's precision.

    >>> percent(0.225, 0.225, 0.225)
    '22.5% [22.5, 22.5]'
    >>> percent(0.9712, 0.9503, 0.9921)
    '97.1% [95.0, 99.2]'
    """
    places = decimals(100 * mean, 100 * low, 100 * high)
    return (
        f"{number(100 * mean, places)}% [{number(100 * low, places)}, {number(100 * high, places)}]"
    )
