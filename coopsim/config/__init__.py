"""Configuration: what a run is made of, as plain typed data.

The first layer of the package (see ``tests/integration/test_architecture.py``): building, execution,
records and the front ends import these classes, and this package imports nothing of them,
only the rule-carrying field of :mod:`coopsim.schema`. A world's and a mechanism's own
parameters are declared beside the class that reads them (``WORLDS[kind][0]``,
``MECHANISMS[kind].Params``); a scenario holds them as values.
"""

from coopsim.config.planner import OBJECTIVES, PAIRED_OBJECTIVES, ControlTarget, PlannerConfig
from coopsim.config.scenario import (
    LEARNERS,
    EvaluationConfig,
    GroupConfig,
    MechanismConfig,
    Resolved,
    Scenario,
)
from coopsim.config.training import PPOConfig, TrainingConfig

__all__ = [
    "LEARNERS",
    "OBJECTIVES",
    "PAIRED_OBJECTIVES",
    "ControlTarget",
    "EvaluationConfig",
    "GroupConfig",
    "MechanismConfig",
    "PPOConfig",
    "PlannerConfig",
    "Resolved",
    "Scenario",
    "TrainingConfig",
]
