"""The one interval policy every table, figure, report and the app use.

An interval is a Student-t 95% confidence interval for a mean over independent units:

* within a run, the units are its evaluation episodes (what ``summary.json`` stores);
* across runs of one scenario, the units are the runs' means, one per training seed, so the
  interval covers the luck of training, the uncertainty that matters for learned policies;
* a comparison of two rules on the same evaluation worlds is an interval for the mean of the
  paired, world-by-world differences, which removes what the worlds share.

Why t and not a bootstrap: with the two to five training seeds a learning comparison can
afford, a percentile bootstrap cannot reach outside the range of the seeds it resamples and so
understates the uncertainty; t intervals widen honestly as n falls. One unit gives a
zero-width interval, and tables say so rather than hide it (see :func:`zero_width_reason`).

Why intervals are cut to a measure's range: a t interval around a share near 0 or 1, or a
Gini near 0, reaches past what the measure can take (a contribution share of 0.3% [-0.4,
0.9]). The quantity estimated, a mean of values in ``[low, high]``, lies in ``[low, high]``
itself, so intersecting the interval with that range never removes the true mean from it: the
cut interval covers at least as often as the uncut one, and never promises the impossible.
Each measure declares its range (:attr:`coopsim.measures.Measure.bounds`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    mean: float
    ci_low: float
    ci_high: float
    std: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


#: A measure's possible values, ``(low, high)``; None where a side is open.
Bounds = tuple[float | None, float | None]

#: No bounds on either side.
OPEN: Bounds = (None, None)


def _half_widths(std: np.ndarray, n: int, level: float) -> np.ndarray:
    if n < 2:
        return np.zeros_like(std)
    return stats.t.ppf(0.5 + level / 2, n - 1) * std / np.sqrt(n)


def t_interval(values: np.ndarray, level: float = LEVEL, bounds: Bounds = OPEN) -> Interval:
    """Mean of ``values`` [n] with a Student-t interval, cut to ``bounds`` (see above).

    >>> round(t_interval(np.array([1.0, 2.0, 3.0])).ci_high, 3)
    4.484
    >>> t_interval(np.array([0.99, 1.0, 1.0]), bounds=(0.0, 1.0)).ci_high
    1.0
    """
    values = np.asarray(values, dtype=float).ravel()  # [n]
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}")
    n = values.size
    if n == 0:
        nan = float("nan")
        return Interval(nan, nan, nan, nan, 0)
    mean = float(values.mean())
    std = float(values.std(ddof=1)) if n > 1 else 0.0
    half = float(_half_widths(np.asarray(std), n, level))
    low, high = clip(mean - half, mean + half, bounds)
    return Interval(mean, low, high, std, n)


def clip(low: float, high: float, bounds: Bounds) -> tuple[float, float]:
    """``[low, high]`` intersected with ``bounds`` (a side that is None stays open)."""
    floor, ceiling = bounds
    if floor is not None:
        low, high = max(low, floor), max(high, floor)
    if ceiling is not None:
        low, high = min(low, ceiling), min(high, ceiling)
    return float(low), float(high)


def t_interval_columns(
    matrix: np.ndarray, level: float = LEVEL, bounds: Bounds = OPEN
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column means of ``matrix`` [n, k] with Student-t intervals cut to ``bounds``:
    (mean, low, high), each [k]."""
    matrix = np.asarray(matrix, dtype=float)
    n = matrix.shape[0]
    mean = matrix.mean(axis=0)  # [k]
    std = matrix.std(axis=0, ddof=1) if n > 1 else np.zeros_like(mean)  # [k]
    half = _half_widths(std, n, level)  # [k]
    floor, ceiling = bounds
    low, high = mean - half, mean + half
    if floor is not None or ceiling is not None:
        low, high = np.clip(low, floor, ceiling), np.clip(high, floor, ceiling)
    return mean, low, high


def paired_difference(a: np.ndarray, b: np.ndarray, level: float = LEVEL) -> Interval:
    """Interval for the mean of ``a - b`` over paired units (the same evaluation worlds)."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired values differ in number: {a.size} and {b.size}")
    return t_interval(a - b, level)


def zero_width_reason(n: int, std: float) -> str | None:
    """Why an interval has no width, in words a table can print beside it (None if it has)."""
    if n < 2:
        return "one unit only: no spread to measure"
    if std == 0:
        return "every unit gave the same value (deterministic policies in identical worlds)"
    return None
