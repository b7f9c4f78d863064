"""Analysis helpers for runs: tables, curves and the optimal-tax yardstick."""

from coopsim.analysis.mechanism_optimum import OptimalMechanism, optimal_mechanism
from coopsim.analysis.optimal import OptimalSchedule, optimal_schedule
from coopsim.analysis.rules import Rule, format_rules, group_rules, rules_table
from coopsim.analysis.schelling import SchellingDiagram, schelling, schelling_figure
from coopsim.analysis.tables import (
    agent_outcomes,
    compare,
    format_compare,
    lorenz,
    mechanism_flows,
    run_labels,
    summary,
    zero_width_notes,
)
from coopsim.analysis.training import tax_schedules, training_curves, training_log

__all__ = [
    "OptimalMechanism",
    "OptimalSchedule",
    "Rule",
    "SchellingDiagram",
    "agent_outcomes",
    "compare",
    "format_rules",
    "group_rules",
    "format_compare",
    "lorenz",
    "mechanism_flows",
    "optimal_mechanism",
    "optimal_schedule",
    "rules_table",
    "run_labels",
    "schelling",
    "schelling_figure",
    "summary",
    "tax_schedules",
    "training_curves",
    "training_log",
    "zero_width_notes",
]
