"""The regimes experiment at a tiny budget: runs on disk, forks, resumption, the command.

(Named apart from tests/analysis/test_regimes.py: test modules share one namespace.)
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
import torch

from coopsim import cli, run_store
from coopsim import scenario as sc
from coopsim.analysis import regimes as stats
from coopsim.experiments import regimes
from coopsim.experiments.regimes import PHASE1, QUICK, REGIMES, Budget, configure
from coopsim.record import load_run, load_runs
from coopsim.run_store import Fork, list_checkpoints, load_checkpoint
from coopsim.schema import ConfigError
from coopsim.train import Trainer

RUN_FILES = {"scenario.toml", "summary.json", "metrics.parquet", "episodes.parquet",
             "episode_metrics.parquet", "checkpoints"}  # fmt: skip


@pytest.fixture(scope="module")
def quick_out(tmp_path_factory):
    """The comparison at the QUICK budget, training seed 0, in this process."""
    out = tmp_path_factory.mktemp("regimes")
    return out, regimes.run(QUICK, out=out, workers=1, verbose=False)[0]


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


def test_every_regime_starts_from_the_shared_phase_1(tmp_path):
    folder = regimes.train_phase1(QUICK, tmp_path / PHASE1, log=lambda _: None)
    assert list(list_checkpoints(folder)) == [QUICK.phase1]
    shared = Trainer(configure(REGIMES["AI planner"], QUICK), seed=QUICK.seed)
    shared.load_state_dict(load_checkpoint(run_store.checkpoint_path(folder, QUICK.phase1)))
    assert shared.iteration == QUICK.phase1
    assert (shared.world.pipeline.find("tax").rates == 0).all()
    trainer = Trainer(configure("economy_saez", QUICK), seed=QUICK.seed)
    trainer.load_state_dict(Fork(folder, QUICK.phase1, learners_only=True).state())
    assert trainer.iteration == QUICK.phase1 and trainer.iterations == QUICK.phase1 + 1
    mine, theirs = trainer.learners[0][0].net, shared.learners[0][0].net
    for a, b in zip(mine.parameters(), theirs.parameters()):
        assert torch.equal(a, b)


def test_each_regime_is_an_ordinary_run_forked_from_phase_1(quick_out):
    out, paths = quick_out
    assert list(paths) == list(REGIMES)
    seed_folder = out / "seed_0"
    assert sorted(p.name for p in seed_folder.iterdir()) == sorted(
        [PHASE1, *(p.name for p in paths.values())]
    )
    runs = load_runs(f"{seed_folder}/*")  # the hidden phase-1 folder is not a run
    assert sorted(r.summary["scenario"] for r in runs) == sorted(REGIMES.values())
    for label, path in paths.items():
        assert path.parent == seed_folder and {p.name for p in path.iterdir()} >= RUN_FILES
        run = load_run(path)
        training = run.summary["training"]
        assert training["seed"] == QUICK.seed and training["agent_steps"] == QUICK.agent_steps()
        assert training["forked_from"] == {
            "folder": PHASE1, "iteration": QUICK.phase1, "learners_only": label != "AI planner"
        }  # fmt: skip
        # phase 1's rows, then the regime's own
        assert list(run.metrics["iteration"]) == list(range(QUICK.phase1 + QUICK.phase2))
        m = run.summary["metrics"]["equality_times_productivity"]
        assert m["ci_low"] <= m["mean"] <= m["ci_high"] and m["n"] == QUICK.episodes
    # every regime's agents start as phase 1 left them
    first = [load_run(p).metrics.iloc[0].drop(["run", "scenario", "mechanism", "seconds"])
             .dropna() for p in paths.values()]  # fmt: skip
    for row in first[1:]:
        pd.testing.assert_series_equal(row, first[0], check_names=False)
    us = load_run(paths["US federal"])
    assert stats.evaluated_rates(us) == pytest.approx([0.10, 0.12, 0.22, 0.24, 0.32, 0.35, 0.37])
    planner = load_run(paths["AI planner"])
    assert stats.evaluated_rates(planner) == planner.summary["training"]["planner_schedule"]


def test_a_finished_experiment_is_kept_and_tabled_without_training(quick_out, capsys):
    out, paths = quick_out
    capsys.readouterr()
    assert cli.main(["experiment", "regimes", "--quick", "--workers", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("finished, kept") == len(REGIMES) and "phase 1:" not in printed
    assert "equality x productivity" in printed and "wall-clock" in printed
    assert cli.main(["experiment", "regimes", "--table", str(out)]) == 0
    table = capsys.readouterr().out
    assert table.strip() == stats.format_seed({k: load_run(p) for k, p in paths.items()})
    assert table.strip() in printed
    for label in REGIMES:
        assert label in table


def test_another_budget_in_the_same_folder_is_refused_naming_the_run(quick_out):
    out, paths = quick_out
    other = dataclasses.replace(QUICK, episodes=QUICK.episodes + 1)
    with pytest.raises(ConfigError, match=r"evaluation\.episodes: .*5.*6.*another --out") as info:
        regimes.run(other, out=out, workers=1, verbose=False)
    assert str(paths["free market"]) in str(info.value)


class Stop(Exception):
    pass


def test_an_interrupted_experiment_resumes_from_its_checkpoints(tmp_path, monkeypatch, capsys):
    """Killed in phase 1, then in a regime's phase 2: the reruns give the uninterrupted numbers."""
    budget = Budget(phase1=2, phase2=2, num_worlds=2, episode_length=20, episodes=3)

    def every_iteration(name: str, b: Budget):  # checkpoints after every iteration
        scen = configure(name, b)
        scen.training.checkpoint_every = 1
        return scen

    monkeypatch.setattr(regimes, "configure", every_iteration)
    reference = regimes.run(budget, out=tmp_path / "reference", workers=1, verbose=False)[0]

    record = run_store.Recorder.__call__

    def stop_at(where: str, iteration: int):
        def call(self, trainer, row):
            record(self, trainer, row)
            if where in self.folder.name and trainer.iteration == iteration:
                raise Stop

        return call

    out = tmp_path / "resumed"
    monkeypatch.setattr(run_store.Recorder, "__call__", stop_at(PHASE1, 1))
    with pytest.raises(Stop):
        regimes.run(budget, out=out, workers=1, verbose=False)
    monkeypatch.setattr(run_store.Recorder, "__call__", stop_at("us_federal", 3))
    with pytest.raises(Stop):
        regimes.run(budget, out=out, workers=1, verbose=False)
    monkeypatch.setattr(run_store.Recorder, "__call__", record)
    capsys.readouterr()
    resumed = regimes.run(budget, out=out, workers=1, verbose=False)[0]
    captured = capsys.readouterr()
    assert "resuming economy_us_federal (seed 0) from iteration 3 of 4" in captured.err
    assert load_run(resumed["US federal"]).summary["training"]["resumed_from"] == 3
    for label in REGIMES:
        a, b = load_run(resumed[label]), load_run(reference[label])
        assert a.summary["metrics"] == b.summary["metrics"], label
        pd.testing.assert_frame_equal(
            a.metrics.drop(columns=["run", "seconds"]), b.metrics.drop(columns=["run", "seconds"])
        )


def test_regimes_in_worker_processes_match_the_single_process_run(quick_out, tmp_path):
    one = quick_out[1]
    two = regimes.run(QUICK, out=tmp_path, workers=2, verbose=False)[0]
    for label in REGIMES:
        a, b = load_run(one[label]), load_run(two[label])
        m = "equality_times_productivity"
        assert a.episode_metrics[m].tolist() == b.episode_metrics[m].tolist()
        assert stats.evaluated_rates(a) == pytest.approx(stats.evaluated_rates(b))


def test_seed_sweep_runs_the_comparison_per_seed_and_tables_the_gains(tmp_path, capsys):
    argv = ["experiment", "regimes", "--quick", "--seeds", "0,1", "--workers", "1"]
    assert cli.main([*argv, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    by_seed = stats.load_experiment(tmp_path)
    assert list(by_seed) == [0, 1]
    for seed, runs in by_seed.items():
        assert list(runs) == list(REGIMES)
        for run in runs.values():
            assert run.path.parent == tmp_path / f"seed_{seed}"
    assert "=== training seed 1 ===" in out and "across training seeds" in out
    assert "over 2 training seeds; ahead in" in out or "n/a over 2 training seeds" in out
    table = stats.format_sweep(stats.sweep_values(by_seed))
    rows = [line for line in table.splitlines() if line[:1] in "01"]
    assert len(rows) == 2
    # each row's planner column is that seed's own result
    planner = by_seed[1]["AI planner"].summary["metrics"]["equality_times_productivity"]
    assert f"{planner['mean']:.1f}" in rows[1]
    assert table in out
    for runs in by_seed.values():
        assert stats.format_seed(runs) in out
    assert cli.main(["experiment", "regimes", "--table", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == table


def test_the_command_refuses_bad_seeds_and_names_a_folder_with_nothing_to_table(capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        cli.main(["experiment", "regimes", "--seeds", "0,0"])
    assert info.value.code == 2 and "distinct" in capsys.readouterr().err
    assert cli.main(["experiment", "regimes", "--table", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "no regime runs" in err and "Traceback" not in err
