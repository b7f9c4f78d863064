"""``scripts/economy_stress_table.py``: each column's interval is over the seeds that vary in
it, and where none do, over episodes with a mark (the table in docs/results.md comes from it).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coopsim.intervals import t_interval

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def script():
    path = ROOT / "scripts" / "economy_stress_table.py"
    spec = importlib.util.spec_from_file_location("_economy_stress_table", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _cells(script) -> pd.DataFrame:
    """Objective cells where a rule's value is set by the agents' seed (cross-rule), the rule's
    seed (in-distribution, cross-seed), or nothing (the scripted workers: identical seeds)."""
    rows = []
    rules = list(script.REGIMES)
    for i, rule in enumerate(rules):
        for s in range(3):
            for e in range(2):
                rows.append(
                    (
                        rule,
                        s,
                        "in-distribution",
                        "in-distribution",
                        f"{rule} s{s}",
                        e,
                        10.0 * i + s + e,
                    )
                )
                rows.append((rule, s, "economy_gather_build", "population", "", e, 5.0 + e))
                for p in range(3):
                    if p != s:
                        rows.append(
                            (rule, s, "cross-seed", "cross-seed", f"{rule} s{p}", e, 1.0 * s)
                        )
                    for other in rules:
                        if other != rule:
                            rows.append(
                                (
                                    rule,
                                    s,
                                    f"trained under {other}",
                                    "cross-rule",
                                    f"{other} s{p}",
                                    e,
                                    100.0 * p + s,
                                )
                            )
        for e in range(3):
            rows.append((rule, 0, "exploiter (1 seat)", "exploiter", f"{rule} s0", e, float(e)))
    columns = ["rule", "seed", "population", "kind", "partner", "episode", "value"]
    frame = pd.DataFrame(rows, columns=columns)
    frame.insert(5, "measure", "objective")
    return frame


def test_cross_rule_interval_is_over_the_agents_seeds(script):
    text = script.table(_cells(script))
    row = next(line for line in text.splitlines() if line.startswith("| free market |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # the agents' seeds give 100 p + (mean of the rule's seeds 0, 1, 2 = 1)
    est = t_interval(np.array([1.0, 101.0, 201.0]))
    assert cells[3] == ""  # no cross-rule column for a rule's own agents
    assert (
        cells[4] == f"{script.fmt(est.mean)} [{script.fmt(est.ci_low)}, {script.fmt(est.ci_high)}]"
    )
    # the scripted workers do not differ by seed: over one seed's episodes, marked
    episodes = t_interval(np.array([5.0, 6.0]))
    assert (
        cells[7]
        == f"{script.fmt(episodes.mean)} [{script.fmt(episodes.ci_low)}, {script.fmt(episodes.ci_high)}]*"
    )
    assert cells[8].endswith("*")  # one exploiter seed


def test_planner_against_saez_is_paired_by_the_agents_seed(script):
    lines = script.comparisons(_cells(script))
    # in-distribution: planner (i = 3) minus Saez (i = 2) is 10 at every seed
    assert lines[0].startswith(
        "in-distribution, planner s - Saez s: +10.0 [+10.0, +10.0] over 3 seeds"
    )
    # with Saez's agents of seed p the planner scores 100 p + 1; Saez's own, 20 + p + 0.5
    expected = t_interval(np.array([100.0 * p + 1 - (20 + p + 0.5) for p in range(3)]))
    assert f"{expected.mean:+.1f} [{expected.ci_low:+.1f}, {expected.ci_high:+.1f}]" in lines[1]


def test_format_keeps_three_figures(script):
    assert script.fmt(53.0) == "53.0"
    assert script.fmt(138.4) == "138"
    assert script.fmt(-0.0) == "0.00"  # no minus sign on a zero
    assert script.fmt(float("nan")) == "n/a"
