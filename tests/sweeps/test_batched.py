"""Cells differing only in mechanism controls run as one batched world, with the same results."""

from __future__ import annotations

import json

import pandas as pd

from coopsim import scenario as sc
from coopsim.sweeps import SweepSpec, run_sweep
from coopsim.sweeps.batched import batch_key
from coopsim.sweeps.driver import plan, units

RATES = [[0.0, 0.1, 0.2], [0.1, 0.3, 0.5], [0.3, 0.5, 0.9]]


def _spec(**grid) -> SweepSpec:
    return SweepSpec(grid={"mechanisms.0.rates": RATES, **grid}, seeds=[0, 1])


def test_only_control_fields_of_evaluated_scenarios_batch(tmp_path):
    tax = sc.load("public_goods_tax")
    _, tasks = plan(tax, _spec(), tmp_path)
    assert [len(u) for u in units(tasks)] == [3, 3]  # one batch per seed
    assert [len(u) for u in units(tasks, batch=False)] == [1] * 6
    _, tasks = plan(tax, _spec(**{"world.multiplier": [1.2, 1.6]}), tmp_path)
    assert all(batch_key(t) is None for t in tasks)  # a world field: separate worlds
    learning = sc.load("public_goods_learning_matching")
    _, tasks = plan(learning, SweepSpec(grid={"mechanisms.0.rate": [0, 1]}), tmp_path)
    assert batch_key(tasks[0]) is None  # learners train per cell, and matching has no controls


def test_a_batched_sweep_gives_the_unbatched_table(tmp_path):
    tax = sc.load("public_goods_tax")
    batched = run_sweep(tax, _spec(), tmp_path / "batched", episodes=4).table
    alone = run_sweep(tax, _spec(), tmp_path / "alone", episodes=4, batch=False).table
    keep = [c for c in batched.columns if c not in ("wall_s", "run")]
    pd.testing.assert_frame_equal(batched[keep], alone[keep])
    assert batched["objective"].nunique() > 1  # the rates matter
    summary = tmp_path / "batched" / batched["run"].iloc[0] / "summary.json"
    assert json.loads(summary.read_text())["batched_cells"] == 3
    episodes = pd.read_parquet(tmp_path / "batched" / batched["run"].iloc[0] / "episodes.parquet")
    assert sorted(episodes["episode"].unique()) == [0, 1, 2, 3]
