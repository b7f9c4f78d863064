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


def _half_widths(std: np.ndarray, n: int, level: float) -> np.ndarray:
    if n < 2:
        return np.zeros_like(std)
    return stats.t.ppf(0.5 + level / 2, n - 1) * std / np.sqrt(n)


def t_interval(values: np.ndarray, level: float = LEVEL) -> Interval:
    """Mean of ``values`` [n] with a Student-t interval.

    >>> round(t_interval(np.array([1.0, 2.0, 3.0])).ci_high, 3)
    4.484
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
    return Interval(mean, mean - half, mean + half, std, n)


def t_interval_columns(
    matrix: np.ndarray, level: float = LEVEL
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column means of ``matrix`` [n, k] with Student-t intervals: (mean, low, high), each [k]."""
    matrix = np.asarray(matrix, dtype=float)
    n = matrix.shape[0]
    mean = matrix.mean(axis=0)  # [k]
    std = matrix.std(axis=0, ddof=1) if n > 1 else np.zeros_like(mean)  # [k]
    half = _half_widths(std, n, level)  # [k]
    return mean, mean - half, mean + half


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
