"""The regimes experiment's statistics, on run directories with values worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from coopsim.analysis import regimes as stats
from coopsim.experiments.regimes import REGIMES
from coopsim.record import SWEEP_TABLE, RunData
from coopsim.sweeps.table import sweep_frame, write_table

METRIC = "equality_times_productivity"


def fake_run(label: str, values: list[float]) -> RunData:
    table = pd.DataFrame({METRIC: values})
    summary = {"scenario": REGIMES[label], "training": {"seed": 0},
               "metrics": {METRIC: {"mean": sum(values) / len(values)}}}  # fmt: skip
    return RunData(Path(label), summary, {}, pd.DataFrame(), episode_metrics=table)


def save_seed(
    out: Path, seed: int, per_world: dict[str, list[float]], per_episode=True, failed=()
) -> Path:
    """A seed_<s> folder as the experiment leaves it: one run directory per regime (the files
    the statistics read), and their rows in the sweep table; ``per_episode=False`` stands for
    runs without episode_metrics, ``failed`` for regimes whose cell failed."""
    folder = out / f"seed_{seed}"
    table = out / SWEEP_TABLE
    rows = pd.read_parquet(table).to_dict("records") if table.is_file() else []

    def row(label: str, status: str, run: str) -> dict:
        return {"regime": label, "seed": seed, "status": status, "error": "", "wall_s": 1.0,
                "run": run, "cell": REGIMES[label]}  # fmt: skip

    rows += [row(label, "failed", "") for label in failed]
    for label, values in per_world.items():
        rows.append(row(label, "ok", f"seed_{seed}/{REGIMES[label]}-20260101-000000-s0"))
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
    write_table(out, sweep_frame(rows, ["regime"], list(REGIMES.values())))
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
    # the interval stands beside the difference it bounds, in its unit; the gain after it
    assert f"{1.5:>+7.1f} [{1.5 - half:>+7.1f},{1.5 + half:>+7.1f}] (+13.6%)" in row0
    assert "(-10.0%) no paired interval" in row9
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
    with pytest.raises(FileNotFoundError, match=rf"{tmp_path}: no regime runs"):
        stats.load_experiment(tmp_path)
    save_seed(tmp_path / "c", 5, {"free market": [1.0], "AI planner": [2.0]}, failed=["Saez"])
    with pytest.raises(ValueError, match=rf"{tmp_path / 'c'}: no finished run of US federal, Saez"):
        stats.load_experiment(tmp_path / "c")
    other = pd.DataFrame({"mechanisms.0.rate": [0.5], "seed": [0], "status": ["ok"]})
    write_table(tmp_path / "d", other)
    with pytest.raises(ValueError, match="a sweep of mechanisms.0.rate, not the regimes"):
        stats.load_experiment(tmp_path / "d")


def test_the_runs_are_the_ones_the_table_lists(tmp_path):
    """Not whatever lies in the seed folders: a run moved away is missing, not looked for."""
    save_seed(tmp_path, 2, four([10.0, 12.0], [11.0, 14.0]))
    stray = tmp_path / "seed_2" / "economy_saez-20270101-000000-s0"
    (tmp_path / "seed_2" / "economy_saez-20260101-000000-s0").rename(stray)
    with pytest.raises(FileNotFoundError):
        stats.load_experiment(tmp_path)
    stray.rename(tmp_path / "seed_2" / "economy_saez-20260101-000000-s0")
    assert list(stats.load_experiment(tmp_path)[2]) == list(REGIMES)


def economy_run(label: str, skills: list[float], sold: list[float]) -> RunData:
    """One evaluation episode (numbered 0, as every seed's first is) of two agents: the less
    skilled moves 10 and gathers 5 times and sells 5 units, the other builds once and buys."""
    episodes = pd.DataFrame({
        "episode": [0, 0], "agent": [0, 1], "build_skill": skills,
        "moved": [10, 0], "gathers": [5, 0], "built": [0, 1], "orders": [0, 0],
        "build_income": [0.0, 20.0], "sale_income": [7.0, 0.0],
        "sold": sold, "bought": [5.0 - s for s in sold],
    })  # fmt: skip
    world = {"move_labour": 1.0, "gather_labour": 1.0, "build_labour": 10.0, "order_labour": 0.25}
    return RunData(Path(label), {"scenario": REGIMES[label]}, {"world": world}, episodes)


def test_roles_pool_the_seeds_episodes_by_skill_rank():
    by_seed = {
        seed: {label: economy_run(label, skills, [5.0, 0.0]) for label in stats.ROLE_REGIMES}
        for seed, skills in ((0, [1.0, 2.0]), (3, [1.5, 3.0]))
    }
    table = stats.pooled_roles(by_seed, "AI planner").set_index("skill_rank")
    # two agent-episodes per rank: the seeds' episode 0 are two episodes, not one
    assert table.loc[0, "episodes"] == 2 and table.loc[0, "net_sold"] == 5.0
    assert table.loc[1, "net_sold"] == -5.0 and table.loc[1, "build_skill"] == 2.5
    # rank 0: labour 10 moving + 5 gathering per episode; rank 1: one house, 10 units
    assert table.loc[0, "labour_share_moving"] == pytest.approx(2 / 3)
    assert table.loc[0, "labour_share_gathering"] == pytest.approx(1 / 3)
    assert table.loc[1, "labour_share_building"] == 1.0
    assert table.loc[1, "income_building"] == 20.0 and table.loc[0, "income_selling"] == 7.0
    text = stats.format_roles(by_seed)
    assert "2 training seeds pooled" in text
    rows = [line.split() for line in text.splitlines() if line.startswith(("free", "AI"))]
    assert rows[0][:3] == ["free", "market", "0"] and rows[-1][:4] == ["AI", "planner", "1", "2.50"]
    assert rows[-1][4:8] == ["0%", "0%", "100%", "0%"] and rows[-1][8] == "-5.0"
    assert stats.has_roles(by_seed)
    del by_seed[3]["free market"]
    assert not stats.has_roles(by_seed)
