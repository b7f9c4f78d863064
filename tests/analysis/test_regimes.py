"""The regimes experiment's statistics, on run directories with values worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from coopsim.analysis import regimes as stats
from coopsim.experiments.regimes import REGIMES
from coopsim.record import RunData

METRIC = "equality_times_productivity"


def fake_run(label: str, values: list[float]) -> RunData:
    table = pd.DataFrame({METRIC: values})
    summary = {"scenario": REGIMES[label], "training": {"seed": 0},
               "metrics": {METRIC: {"mean": sum(values) / len(values)}}}  # fmt: skip
    return RunData(Path(label), summary, {}, pd.DataFrame(), episode_metrics=table)


def save_seed(out: Path, seed: int, per_world: dict[str, list[float]], per_episode=True) -> Path:
    """A seed_<s> folder as the experiment leaves it: one run directory per regime (the files
    the statistics read); ``per_episode=False`` stands for runs without episode_metrics."""
    folder = out / f"seed_{seed}"
    for label, values in per_world.items():
        run = folder / f"{REGIMES[label]}-20260101-000000-s0"
        run.mkdir(parents=True)
        stat = {"mean": sum(values) / len(values), "ci_low": min(values), "ci_high": max(values)}
        summary = {"scenario": REGIMES[label], "seed": 0, "training": {"seed": seed},
                   "metrics": dict.fromkeys(stats.TABLE_METRICS, stat)}  # fmt: skip
        (run / "summary.json").write_text(json.dumps(summary))
        if per_episode:
            pd.DataFrame({"episode": range(len(values)), METRIC: values}).to_parquet(
                run / "episode_metrics.parquet"
            )
    return folder


def four(free_market: list[float], planner: list[float]) -> dict[str, list[float]]:
    """Every regime's values; US federal and Saez at the free market's."""
    return {"free market": free_market, "US federal": free_market, "Saez": free_market,
            "AI planner": planner}  # fmt: skip


def test_paired_gain_takes_differences_world_by_world():
    """Two regimes whose worlds differ a lot in level but whose gap is a steady +1."""
    base = [1.0, 10.0, 4.0, 25.0, 5.0]
    gain, diff = stats.paired_gain(fake_run("AI planner", [v + 1 for v in base]),
                                   fake_run("free market", base))  # fmt: skip
    assert gain == pytest.approx(5 / 45)  # means 10 vs 9
    assert diff["mean"] == pytest.approx(1.0) and diff["ci_low"] == diff["ci_high"] == 1.0
    with pytest.raises(ValueError, match="different episodes"):
        stats.paired_gain(fake_run("AI planner", [1.0, 2.0]), fake_run("free market", base))


def test_sweep_gives_the_mean_gain_over_seeds_with_its_interval():
    # over three seeds the planner gains +10%, +30% and -5% over the free market, US federal
    # +20%, 0% and +5%
    by_seed = {
        seed: {
            "free market": fake_run("free market", [10.0, 10.0]),
            "US federal": fake_run("US federal", [10 * us, 10 * us]),
            "AI planner": fake_run("AI planner", [10 * k, 10 * k]),
        }  # fmt: skip
        for seed, k, us in ((0, 1.1, 1.2), (1, 1.3, 1.0), (2, 0.95, 1.05))
    }
    table = stats.format_sweep(stats.sweep_values(by_seed))

    def t_interval(gains: list[float]) -> str:
        half = 4.302653 * float(pd.Series(gains).std()) / 3**0.5  # t(0.975, 2 dof)
        mean = sum(gains) / 3
        return f"mean gain {mean:+.1%} [{mean - half:+.1%}, {mean + half:+.1%}] over 3"

    assert f"AI planner vs free market: {t_interval([0.1, 0.3, -0.05])}" in table
    assert "free market: mean gain +11.7%" in table and "ahead in 2 of 3" in table
    # the fixed schedule against the free market, the same way
    assert f"US federal vs free market: {t_interval([0.2, 0.0, 0.05])} training seeds; " \
           "ahead in 2 of 3" in table  # fmt: skip
    assert "AI planner vs US federal:  mean gain" in table


def test_saved_seeds_table_as_one_sweep(tmp_path):
    save_seed(tmp_path, 0, four([10.0, 12.0], [11.0, 14.0]))
    save_seed(tmp_path, 9, four([10.0, 10.0], [9.0, 9.0]), per_episode=False)
    by_seed = stats.load_experiment(tmp_path)
    assert list(by_seed) == [0, 9] and all(list(by) == list(REGIMES) for by in by_seed.values())
    values = stats.sweep_values(by_seed)
    assert values[0]["AI planner"].tolist() == [11.0, 14.0]
    assert values[9]["AI planner"].tolist() == [9.0]  # the mean alone
    table = stats.format_sweep(values)
    row0, row9 = (line for line in table.splitlines() if line[:1] in "09")
    # seed 0: +13.6% (12.5 / 11), paired differences 1 and 2: mean 1.5, t(1 dof) interval
    half = 12.706205 * 0.5**0.5 / 2**0.5
    assert "+13.6%" in row0 and f"[{1.5 - half:>+7.1f},{1.5 + half:>+7.1f}]" in row0
    assert "-10.0%" in row9 and "paired n/a" in row9
    assert "mean gain +1.8%" in table and "ahead in 1 of 2" in table
    assert stats.format_experiment(by_seed) == table


def test_one_seed_tables_its_regimes_and_the_planners_paired_gains(tmp_path):
    save_seed(tmp_path, 4, four([10.0, 12.0], [11.0, 14.0]))
    text = stats.format_table(stats.load_experiment(tmp_path)[4])
    lines = text.splitlines()
    assert lines[0].split() == [
        "regime",
        "equality",
        "productivity",
        "equality",
        "x",
        "productivity",
        "utilitarian",
        "welfare",
    ]  # the registry's labels
    assert [line.split("  ")[0].strip() for line in lines[2:6]] == list(REGIMES)
    half = 12.706205 * 0.5**0.5 / 2**0.5
    assert f"AI planner vs free market: equality x productivity  +13.6%; paired difference " \
           f"per world +1.50 [{1.5 - half:+.2f}, {1.5 + half:+.2f}]" in text  # fmt: skip


def test_saved_seeds_errors_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        stats.load_experiment(tmp_path)
    save_seed(tmp_path / "a", 3, four([1.0, 1.0], [1.0, 1.0]))
    save_seed(tmp_path / "b", 3, four([1.0, 1.0], [1.0, 1.0]))
    (tmp_path / "b" / "seed_3").rename(tmp_path / "a" / "seed_03")
    with pytest.raises(ValueError, match="training seed 3 is in two folders"):
        stats.load_experiment(tmp_path / "a")
    partly = save_seed(tmp_path / "c", 5, {"free market": [1.0], "AI planner": [2.0]})
    with pytest.raises(ValueError, match=rf"{partly}: no finished run of US federal, Saez"):
        stats.load_experiment(tmp_path / "c")
