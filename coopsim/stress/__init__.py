"""Stress tests: every designed rule against agents it never met.

A rule is judged here not only against the agents it was trained with but against
populations (:mod:`coopsim.stress.populations`, TOML files like scenarios): the learners of its
other training seeds, learners trained under other rules, scripted mixes, and an exploiter
trained against it (:mod:`coopsim.stress.exploiter`). :func:`~coopsim.stress.driver.stress`
writes ``stress.parquet``; :mod:`coopsim.analysis.stress` turns it into a verdict per rule.
"""

from coopsim.stress.driver import STRESS, StressConfig, aggregate, stress
from coopsim.stress.populations import (
    PopulationConfig,
    default_suite,
    list_populations,
    load_population,
)

__all__ = [
    "STRESS",
    "PopulationConfig",
    "StressConfig",
    "aggregate",
    "default_suite",
    "list_populations",
    "load_population",
    "stress",
]
