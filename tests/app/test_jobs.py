"""The app's job constants name things that exist."""

from __future__ import annotations

from coopsim.app import jobs
from coopsim.measures import MEASURES


def test_live_metrics_are_measures_of_the_registry():
    unknown = [m for m in jobs.LIVE_METRICS if m not in MEASURES]
    assert not unknown, f"LIVE_METRICS names no measure: {unknown}; allowed: {', '.join(MEASURES)}"
    assert len(set(jobs.LIVE_METRICS)) == len(jobs.LIVE_METRICS)
