"""The economy benchmarks in quick mode: throughput table, and the four-regime comparison."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from coopsim import scenario as sc
from coopsim.bench import economy, economy_regimes
from coopsim.bench.economy_regimes import QUICK, Budget, configure


def test_throughput_table_in_quick_mode(capsys):
    rows = economy.main(quick=True, device="cpu", batch_sizes=(1, 4), threads=1)
    assert [(d, b) for d, b, _, _ in rows] == [("cpu", 1), ("cpu", 4)]
    assert all(fast > 0 and slow > 0 for _, _, fast, slow in rows)
    out = capsys.readouterr().out
    assert "economy_us_federal" in out and "single worlds" in out and "x" in out.splitlines()[-1]


def test_configure_installs_the_budget_and_keeps_the_curriculum_proportions():
    budget = Budget(phase1=70, phase2=18, num_worlds=8, episode_length=300, episodes=6)
    scen = configure("economy_ai_planner", budget)
    assert scen.world.episode_length == 300 and scen.evaluation.episodes == 6
    assert (scen.training.iterations, scen.training.num_worlds) == (88, 8)
    # the files: warm-up over half of phase 1 (50 of 100), annealing over 60% of phase 2
    pc = scen.planner
    assert (pc.phase1_iterations, pc.anneal_iterations) == (70, 11)
    assert scen.training.labour_warmup == 35
    assert configure("economy_saez", budget).training.labour_warmup == 35
    assert scen.world.labour_cost == sc.load("economy_ai_planner").world.labour_cost
    paper = configure("economy_ai_planner", dataclasses.replace(budget, labour_cost=0.21))
    assert paper.world.labour_cost == 0.21
    assert budget.agent_steps() == 88 * 8 * 300 * 4
    fixed = configure("economy_us_federal", budget)
    assert fixed.planner is None and fixed.training.iterations == 88


def test_every_regime_starts_from_the_shared_phase_1():
    shared, start = economy_regimes.phase1(QUICK, "economy_ai_planner", log=lambda _: None)
    assert shared.iteration == QUICK.phase1 and (shared.tax.rates == 0).all()
    trainer = economy_regimes.regime_trainer("economy_saez", QUICK, start)
    assert trainer.iteration == QUICK.phase1 and trainer.iterations == QUICK.phase1 + 1
    mine, theirs = trainer.learners[0][0].net, shared.learners[0][0].net
    for a, b in zip(mine.parameters(), theirs.parameters()):
        assert torch.equal(a, b)


def test_regimes_comparison_in_quick_mode(tmp_path, capsys):
    results, summary = economy_regimes.main(QUICK, out=tmp_path, quiet=True)
    assert [r.label for r in results] == list(economy_regimes.REGIMES)
    out = capsys.readouterr().out
    for label in economy_regimes.REGIMES:
        assert label in out
    assert "equality x prod." in out and "wall-clock" in out
    us = next(r for r in results if r.label == "US federal")
    assert us.rates == pytest.approx([0.10, 0.12, 0.22, 0.24, 0.32, 0.35, 0.37])
    saved = json.loads((tmp_path / "economy_regimes.json").read_text())
    assert set(saved["regimes"]) == set(economy_regimes.REGIMES)
    for entry in saved["regimes"].values():
        m = entry["metrics"]["equality_times_productivity"]
        assert m["ci_low"] <= m["mean"] <= m["ci_high"] and m["n"] == QUICK.episodes
        assert (tmp_path / entry["figure"].split("/")[-1]).stat().st_size > 0
    assert summary["agent_steps_per_regime"] == QUICK.agent_steps()


def test_paired_gain_takes_differences_world_by_world():
    """Two regimes whose worlds differ a lot in level but whose gap is a steady +1."""
    import pandas as pd

    from coopsim.evaluate import Evaluation

    def result(label, values):
        table = pd.DataFrame({"equality_times_productivity": values})
        return economy_regimes.RegimeResult(label, label, Evaluation(None, table, {}), [], 0.0)

    base = [1.0, 10.0, 4.0, 25.0, 5.0]
    gain, diff = economy_regimes.paired_gain(result("a", [v + 1 for v in base]), result("b", base))
    assert gain == pytest.approx(5 / 45)  # means 10 vs 9
    assert diff["mean"] == pytest.approx(1.0) and diff["ci_low"] == diff["ci_high"] == 1.0
    with pytest.raises(ValueError, match="different episodes"):
        economy_regimes.paired_gain(result("a", [1.0, 2.0]), result("b", base))


def test_regimes_in_worker_processes_match_the_single_process_run():
    budget = dataclasses.replace(QUICK, episodes=3)
    one, _ = economy_regimes.run(budget, log=lambda _: None, workers=1)
    two, _ = economy_regimes.run(budget, log=lambda _: None, workers=2)
    for a, b in zip(one, two):
        assert a.label == b.label and a.rates == pytest.approx(b.rates)
        m = "equality_times_productivity"
        assert a.evaluation.episode_metrics[m].tolist() == pytest.approx(
            b.evaluation.episode_metrics[m].tolist()
        )


def test_seed_sweep_runs_the_comparison_per_seed_and_tables_the_gains(tmp_path, capsys):
    budget = dataclasses.replace(QUICK, episodes=3)
    runs = economy_regimes.main(budget, out=tmp_path, quiet=True, seeds=[0, 1])
    assert set(runs) == {0, 1}
    for seed, (results, summary) in runs.items():
        assert [r.label for r in results] == list(economy_regimes.REGIMES)
        assert summary["budget"]["seed"] == seed
        assert (tmp_path / f"seed_{seed}" / "economy_regimes.json").exists()
    out = capsys.readouterr().out
    assert "across training seeds" in out
    assert "over 2 training seeds; ahead in" in out or "n/a over 2 training seeds" in out
    table = economy_regimes.format_sweep({s: r for s, (r, _) in runs.items()})
    rows = [line for line in table.splitlines() if line[:1] in "01"]
    assert len(rows) == 2
    # each row's planner column is that seed's own result
    planner = runs[1][0][-1].metric("equality_times_productivity")["mean"]
    assert f"{planner:.1f}" in rows[1]
    # the saved seeds table the same, world by world (per-world values are in the JSON)
    assert economy_regimes.format_sweep(economy_regimes.load_sweep(tmp_path)) == table


def test_sweep_gives_the_mean_gain_over_seeds_with_its_interval():
    import pandas as pd

    from coopsim.evaluate import Evaluation

    def result(label, values):
        table = pd.DataFrame({"equality_times_productivity": values})
        summary = {"equality_times_productivity": {"mean": sum(values) / len(values)}}
        return economy_regimes.RegimeResult(label, label, Evaluation(None, table, summary), [], 0)

    # the planner gains +10%, +30% and -5% over the free market in three seeds
    by_seed = {
        seed: [result("free market", [10.0, 10.0]), result("AI planner", [10 * k, 10 * k])]
        for seed, k in ((0, 1.1), (1, 1.3), (2, 0.95))
    }
    table = economy_regimes.format_sweep(by_seed)
    gains = [0.1, 0.3, -0.05]
    half = 4.302653 * float(pd.Series(gains).std()) / 3**0.5  # t(0.975, 2 dof)
    mean = sum(gains) / 3
    assert f"mean gain {mean:+.1%} [{mean - half:+.1%}, {mean + half:+.1%}] over 3" in table
    assert "ahead in 2 of 3" in table


def _saved_seed(out, seed, per_world):
    """A seed_<s> summary as write_outputs leaves it: per-world values, or means alone."""
    regimes = {}
    for label, values in per_world.items():
        entry = {"metrics": {"equality_times_productivity": {"mean": sum(values) / len(values)}}}
        if seed != 9:  # seed 9 stands for a summary saved before per-world values were
            entry["per_world"] = {"equality_times_productivity": values}
        regimes[label] = entry
    folder = out / f"seed_{seed}"
    folder.mkdir(parents=True)
    summary = {"budget": {"seed": seed}, "regimes": regimes}
    (folder / "economy_regimes.json").write_text(json.dumps(summary))


def test_saved_seeds_table_as_one_sweep(tmp_path):
    _saved_seed(tmp_path, 0, {"free market": [10.0, 12.0], "AI planner": [11.0, 14.0]})
    _saved_seed(tmp_path, 9, {"free market": [10.0, 10.0], "AI planner": [9.0, 9.0]})
    values = economy_regimes.load_sweep(tmp_path)
    assert list(values) == [0, 9]
    assert values[0]["AI planner"].tolist() == [11.0, 14.0]
    assert values[9]["AI planner"].tolist() == [9.0]  # the mean alone
    table = economy_regimes.format_sweep(values)
    row0, row9 = (line for line in table.splitlines() if line[:1] in "09")
    # seed 0: +13.6% (12.5 / 11), paired differences 1 and 2: mean 1.5, t(1 dof) interval
    half = 12.706205 * 0.5**0.5 / 2**0.5
    assert "+13.6%" in row0 and f"[{1.5 - half:>+7.1f},{1.5 + half:>+7.1f}]" in row0
    assert "-10.0%" in row9 and "paired n/a" in row9
    assert "mean gain +1.8%" in table and "ahead in 1 of 2" in table


def test_saved_seeds_errors_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        economy_regimes.load_sweep(tmp_path)
    _saved_seed(tmp_path / "a", 3, {"free market": [1.0, 1.0], "AI planner": [1.0, 1.0]})
    _saved_seed(tmp_path / "b", 3, {"free market": [1.0, 1.0], "AI planner": [1.0, 1.0]})
    (tmp_path / "b" / "seed_3").rename(tmp_path / "a" / "seed_03")
    with pytest.raises(ValueError, match="training seed 3 is in two folders"):
        economy_regimes.load_sweep(tmp_path / "a")
