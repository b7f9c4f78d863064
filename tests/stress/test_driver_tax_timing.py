"""The economy exploiter's report says when it earns its taxable income within tax periods,
beside the seats it replaced: the AI Economist's agents learned to shift income across them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from coopsim import scenario as sc
from coopsim.runner import run_scenario
from coopsim.stress.driver import TIMING_MEASURES, Stress, StressConfig, tax_timing


def test_tax_timing_by_hand():
    # 2 episodes x 4 rounds x 2 agents, tax periods of 2 rounds; seats 0..k-1 with k = 1.
    # Episode 0, agent 0 earns 3 in round 1 and 1 in round 2: late share (last round of each
    # period) 3/4; period incomes 3 and 1: CV 1/2. Episode 1, agent 0 earns nothing: NaN.
    income = np.zeros((2, 4, 2))
    income[0, 1, 0], income[0, 2, 0] = 3.0, 1.0
    income[:, :, 1] = 5.0  # agent 1 is not a seat of the exploiter: not read
    episode, rnd, agent = np.meshgrid(range(2), range(4), range(2), indexing="ij")
    frame = pd.DataFrame(
        {
            "episode": episode.ravel(),
            "round": rnd.ravel(),
            "agent": agent.ravel(),
            "income": income.ravel(),
        }
    )
    out = tax_timing(SimpleNamespace(episodes=frame), 1, 2)
    assert out["late_income_share"][0] == pytest.approx(0.75)
    assert out["income_cv"][0] == pytest.approx(0.5)
    assert np.isnan(out["late_income_share"][1]) and np.isnan(out["income_cv"][1])


@pytest.mark.slow
def test_an_economy_exploiter_cell_reports_its_tax_timing(tmp_path):
    scenario = sc.load("economy_us_federal")
    scenario.world.episode_length = 20
    scenario.mechanisms[0].params.period = 10  # two tax periods an episode
    scenario.training.num_worlds = 2
    scenario.training.labour_warmup = 0
    scenario.evaluation.episodes = 2
    run = run_scenario(scenario, seed=0, out=tmp_path / "runs", iterations=1)
    config = StressConfig(episodes=3, exploiter_iterations=1, exploiter_start="fresh")
    plan = Stress([run], [], tmp_path / "stress", config)
    table = pd.read_parquet(plan.run(progress=False))
    mine = table[table["kind"] == "exploiter"].set_index("measure")
    assert {"exploiter_gain", "objective_change"} <= set(mine.index)
    for name in TIMING_MEASURES:  # where a seat earned anything in 3 episodes of 20 steps
        if name in mine.index:
            assert mine.loc[name, "units"] == TIMING_MEASURES[name]
            low = -1 if name.endswith("shift") else 0  # a shift is exploiter minus replaced
            assert low <= mine.loc[name, "mean"] <= (1 if "share" in name else 1.0 + 1e-9)
    # the shifts are paired: exploiter minus replaced, episode by episode, in the same worlds
    cell = pd.read_parquet(plan.cell_path(plan.runs[0], "exploit-1"))
    wide = cell.pivot_table(index="episode", columns="measure", values="value", dropna=False)
    for name in ("late_income_share", "income_cv"):
        if f"{name}_shift" in wide:
            expected = wide[f"exploiter_{name}"] - wide[f"replaced_{name}"]
            pd.testing.assert_series_equal(wide[f"{name}_shift"], expected, check_names=False)
    # every evaluation of an economy with tax periods carries the registry's timing measures
    plays = set(table.loc[table["kind"] == "in-distribution", "measure"])
    assert {"late_income_share", "income_cv_periods"} <= plays


def test_timing_intervals_stay_in_their_range():
    from coopsim.stress.driver import aggregate

    rows = [
        ("economy_saez", s, "exploiter (1 seat)", "exploiter", f"economy_saez s{s}", 0, m, v)
        for m in ("exploiter_late_income_share", "exploiter_income_cv")
        for s, v in enumerate([0.0, 0.0, 0.02])
    ]
    cells = pd.DataFrame(
        rows,
        columns=["rule", "seed", "population", "kind", "partner", "episode", "measure", "value"],
    )
    table = aggregate(cells).set_index("measure")
    assert table.loc["exploiter_late_income_share", "ci_low"] == 0.0
    assert table.loc["exploiter_income_cv", "ci_low"] == 0.0
    assert table.loc["exploiter_late_income_share", "ci_high"] <= 1.0
