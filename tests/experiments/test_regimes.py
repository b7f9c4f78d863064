"""The regimes experiment at a tiny budget: a sweep of runs on disk, forks, resumption, the
command.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from coopsim import cli, staging
from coopsim import scenario as sc
from coopsim.analysis import regimes as stats
from coopsim.experiments import regimes
from coopsim.experiments.regimes import MANIFEST, PHASE1, QUICK, REGIMES, Budget, configure
from coopsim.record import load_run, load_runs, load_sweep
from coopsim.schema import ConfigError
from coopsim.staging import Fork, list_checkpoints, load_checkpoint
from coopsim.sweeps.starts import StartTask, train_start
from coopsim.train import Trainer

RUN_FILES = {"scenario.toml", "summary.json", "training_log.parquet", "episodes.parquet",
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


def test_the_paper_familys_taxes_anneal_their_top_rate_over_the_planners_share_of_phase_2():
    # The files: the planner's cap rises over 30 of its 60 phase-2 iterations, and the paper
    # family's US federal and Saez taxes over 30 episodes; at a phase 2 of 18 both take 9.
    budget = Budget(family="economy_paper", phase1=6, phase2=18, num_worlds=2, episodes=2)
    assert configure("economy_paper_ai_planner", budget).planner.anneal_iterations == 9
    for name in ("economy_paper_us_federal", "economy_paper_saez"):
        tax = next(m for m in configure(name, budget).mechanisms if m.kind == "tax")
        assert (tax.params.anneal_episodes, tax.params.anneal_from) == (9, 0.1)
    # the free market has no rates to cap; the fast family keeps its taxes unannealed
    free = configure("economy_paper_free_market", budget).mechanisms[0].params
    assert free.anneal_episodes == 0
    fast = Budget(phase1=6, phase2=18, num_worlds=2, episode_length=20, episodes=2)
    for name in ("economy_us_federal", "economy_saez"):
        tax = next(m for m in configure(name, fast).mechanisms if m.kind == "tax")
        assert tax.params.anneal_episodes == 0


def test_every_regime_starts_from_the_shared_phase_1(tmp_path):
    folder = train_start(StartTask(str(tmp_path), regimes.phase1(QUICK)))
    assert folder == tmp_path / "seed_0" / PHASE1
    assert list(list_checkpoints(folder)) == [QUICK.phase1]
    assert train_start(StartTask(str(tmp_path), regimes.phase1(QUICK))) == folder  # found done
    shared = Trainer(configure(REGIMES["AI planner"], QUICK), seed=QUICK.seed)
    shared.load_state_dict(load_checkpoint(staging.checkpoint_path(folder, QUICK.phase1)))
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
    names = [p.name for p in seed_folder.iterdir()]
    assert sorted(n for n in names if not n.startswith(".")) == sorted(
        p.name for p in paths.values()
    )
    assert PHASE1 in names and not [n for n in names if n.endswith(".partial")]
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
        assert list(run.training_log["iteration"]) == list(range(QUICK.phase1 + QUICK.phase2))
        m = run.summary["metrics"]["equality_times_productivity"]
        assert m["ci_low"] <= m["mean"] <= m["ci_high"] and m["n"] == QUICK.episodes
    # every regime's agents start as phase 1 left them
    first = [load_run(p).training_log.iloc[0].drop(["run", "scenario", "mechanism", "seconds"])
             .dropna() for p in paths.values()]  # fmt: skip
    for row in first[1:]:
        pd.testing.assert_series_equal(row, first[0], check_names=False)
    us = load_run(paths["US federal"])
    assert stats.evaluated_rates(us) == pytest.approx([0.10, 0.12, 0.22, 0.24, 0.32, 0.35, 0.37])
    planner = load_run(paths["AI planner"])
    assert stats.evaluated_rates(planner) == planner.summary["training"]["planner_schedule"]


def test_the_sweep_table_lists_every_regime_and_seed(quick_out):
    out, paths = quick_out
    table = load_sweep(out)
    assert table.attrs["fields"] == ["regime"]
    assert list(table["regime"]) == list(REGIMES) and list(table["seed"]) == [0] * len(REGIMES)
    assert (table["status"] == "ok").all() and (table["wall_s"] > 0).all()
    assert list(table["cell"]) == ["free_market", "us_federal", "saez", "ai_planner"]
    for _, row in table.iterrows():
        run = load_run(out / row["run"])
        assert run.path == paths[row["regime"]]
        m = run.summary["metrics"]["equality_times_productivity"]
        got = [row[f"equality_times_productivity{k}"] for k in ("", "_ci_low", "_ci_high")]
        assert got == [m["mean"], m["ci_low"], m["ci_high"]]


def test_a_finished_experiment_is_kept_and_tabled_without_training(quick_out, capsys):
    out, paths = quick_out
    capsys.readouterr()
    assert cli.main(["experiment", "regimes", "--quick", "--workers", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "4 of 4 regime runs finished already, kept" in printed
    assert "for 0 regime runs" in printed and "sweep.parquet" in printed
    assert "equality x productivity" in printed and "wall-clock" in printed
    assert cli.main(["experiment", "regimes", "--table", str(out)]) == 0
    table = capsys.readouterr().out
    runs = {k: load_run(p) for k, p in paths.items()}
    assert table.strip() == stats.format_experiment({0: runs})
    assert stats.format_seed(runs) in table and "who does what, by skill rank" in table
    assert table.strip() in printed
    for label in REGIMES:
        assert label in table


def test_another_budget_in_the_same_folder_is_refused_naming_the_field(quick_out, tmp_path):
    out, paths = quick_out
    other = dataclasses.replace(QUICK, episodes=QUICK.episodes + 1)
    with pytest.raises(ConfigError, match=r"budget\.episodes: .*5.*6.*another --out") as info:
        regimes.run(other, out=out, workers=1, verbose=False)
    assert str(out / MANIFEST) in str(info.value)
    # a folder without its sweep.json: the finished runs say what they trained
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / MANIFEST).unlink()
    with pytest.raises(ConfigError, match=r"evaluation\.episodes: .*5.*6.*another --out") as info:
        regimes.run(other, out=copy, workers=1, verbose=False)
    assert str(copy / paths["free market"].relative_to(out)) in str(info.value)


class Stop(BaseException):
    """Stands for the process being killed: nothing in the sweep catches it."""


def test_an_interrupted_experiment_resumes_from_its_checkpoints(tmp_path, monkeypatch, capsys):
    """Killed in phase 1, then in a regime's phase 2: the reruns give the uninterrupted numbers."""
    budget = Budget(phase1=2, phase2=2, num_worlds=2, episode_length=20, episodes=3)

    def every_iteration(name: str, b: Budget):  # checkpoints after every iteration
        scen = configure(name, b)
        scen.training.checkpoint_every = 1
        return scen

    monkeypatch.setattr(regimes, "configure", every_iteration)
    reference = regimes.run(budget, out=tmp_path / "reference", workers=1, verbose=False)[0]

    record = staging.Recorder.__call__

    def stop_at(where: str, iteration: int):
        def call(self, trainer, row):
            record(self, trainer, row)
            if where in self.folder.name and trainer.iteration == iteration:
                raise Stop

        return call

    out = tmp_path / "resumed"
    monkeypatch.setattr(staging.Recorder, "__call__", stop_at(PHASE1, 1))
    with pytest.raises(Stop):
        regimes.run(budget, out=out, workers=1, verbose=False)
    monkeypatch.setattr(staging.Recorder, "__call__", stop_at("us_federal", 3))
    with pytest.raises(Stop):
        regimes.run(budget, out=out, workers=1, verbose=False)
    monkeypatch.setattr(staging.Recorder, "__call__", record)
    capsys.readouterr()
    resumed = regimes.run(budget, out=out, workers=1, verbose=False)[0]
    captured = capsys.readouterr()
    assert "resuming economy_us_federal (seed 0) from iteration 3 of 4" in captured.err
    assert load_run(resumed["US federal"]).summary["training"]["resumed_from"] == 3
    for label in REGIMES:
        a, b = load_run(resumed[label]), load_run(reference[label])
        assert a.summary["metrics"] == b.summary["metrics"], label
        pd.testing.assert_frame_equal(
            a.training_log.drop(columns=["run", "seconds"]),
            b.training_log.drop(columns=["run", "seconds"]),
        )


def test_regimes_in_worker_processes_match_the_single_process_run(quick_out, tmp_path):
    one = quick_out[1]
    two = regimes.run(QUICK, out=tmp_path, workers=2, verbose=False)[0]
    for label in REGIMES:
        a, b = load_run(one[label]), load_run(two[label])
        pd.testing.assert_frame_equal(
            a.episode_metrics.drop(columns=["run"]), b.episode_metrics.drop(columns=["run"])
        )
        assert a.summary["metrics"] == b.summary["metrics"]
        # the training itself, not only its evaluation (at this budget equality x productivity
        # is 0 everywhere; the losses and welfare are not)
        pd.testing.assert_frame_equal(
            a.training_log.drop(columns=["run", "seconds"]),
            b.training_log.drop(columns=["run", "seconds"]),
        )
        assert stats.evaluated_rates(a) == pytest.approx(stats.evaluated_rates(b))


def test_seed_sweep_runs_the_comparison_per_seed_and_tables_the_gains(tmp_path, capsys):
    argv = ["experiment", "regimes", "--quick", "--workers", "1", "--out", str(tmp_path)]
    # seeds run in batches into one folder share its table
    assert cli.main([*argv, "--seeds", "1"]) == 0
    assert list(load_sweep(tmp_path)["seed"].unique()) == [1]
    assert "=== training seed" not in capsys.readouterr().out
    assert cli.main([*argv, "--seeds", "0,1"]) == 0
    out = capsys.readouterr().out
    assert "4 of 8 regime runs finished already, kept" in out
    table = load_sweep(tmp_path)
    assert list(table["seed"]) == [0, 1] * len(REGIMES) and (table["status"] == "ok").all()
    assert cli.main([*argv, "--seeds", "0"]) == 0  # a batch of one seed keeps the others' rows
    capsys.readouterr()
    pd.testing.assert_frame_equal(load_sweep(tmp_path), table)
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
    assert "who does what" in out and stats.format_roles(by_seed) in out
    assert cli.main(["experiment", "regimes", "--table", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == stats.format_experiment(by_seed)


def test_the_command_refuses_bad_seeds_and_names_a_folder_with_nothing_to_table(capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        cli.main(["experiment", "regimes", "--seeds", "0,0"])
    assert info.value.code == 2 and "distinct" in capsys.readouterr().err
    assert cli.main(["experiment", "regimes", "--table", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "no regime runs" in err and "Traceback" not in err


KILL_BUDGET = ["--phase1", "2", "--phase2", "3", "--worlds", "2", "--episode-length", "20",
               "--episodes", "3"]  # fmt: skip


def _experiment(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "coopsim.cli", "experiment", "regimes", *KILL_BUDGET,
            "--out", str(out), *extra]  # fmt: skip


@pytest.fixture(scope="module")
def uninterrupted_kill_budget(tmp_path_factory) -> pd.DataFrame:
    """The table of an uninterrupted experiment at the kill budget, computed once for both
    backends, in this process: worker processes and one process give the same table
    (test_regimes_in_worker_processes_match_the_single_process_run), and one process skips
    starting two workers that each import torch (25-30 s against 10-11 s at load 3-3.5)."""
    whole = tmp_path_factory.mktemp("whole")
    argv = ["experiment", "regimes", *KILL_BUDGET, "--workers", "1", "--out", str(whole)]
    assert cli.main(argv) == 0
    return load_sweep(whole)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["local", "ray"])
def test_a_killed_experiment_resumes_to_the_same_table(
    tmp_path, backend, uninterrupted_kill_budget
):
    """SIGKILL of the command once a checkpoint is on disk, then the same command again: the
    table equals the uninterrupted experiment's."""
    if backend == "ray":
        pytest.importorskip("ray", reason="the ray extra: pip install -e '.[ray]'")
    extra = ("--workers", "2", "--backend", backend)
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        _experiment(out, *extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while not list(out.glob("seed_0/.*/checkpoints/iteration-*.pt")):
        assert proc.poll() is None, "the experiment ended before a checkpoint"
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers
    proc.wait()
    subprocess.run(_experiment(out, *extra), check=True, capture_output=True, timeout=900)
    a, b = load_sweep(out), uninterrupted_kill_budget
    keep = [c for c in b.columns if c not in ("wall_s", "run")]
    pd.testing.assert_frame_equal(a[keep], b[keep])
    assert not list(out.glob("seed_0/.*.partial")), "a staging folder was left behind"


def test_an_unset_budget_takes_the_family_files_sizes():
    for family in regimes.FAMILIES:
        planner = sc.load(f"{family}_ai_planner")
        got = Budget(family=family).resolved()
        assert (got.phase1, got.phase2) == (
            planner.planner.phase1_iterations,
            planner.training.iterations - planner.planner.phase1_iterations,
        )
        assert got.num_worlds == planner.training.num_worlds
        assert got.episode_length == planner.world.episode_length
        assert got.episodes == planner.evaluation.episodes
        # so each family's default runs its planner scenario's own curriculum
        scen = configure(f"{family}_ai_planner", Budget(family=family))
        assert scen.training == planner.training and scen.planner == planner.planner
    assert Budget(family="economy", phase1=7).resolved().phase1 == 7
    with pytest.raises(ValueError, match="family: got 'economy_tiny', need one of economy"):
        Budget(family="economy_tiny").resolved()


def test_the_paper_family_trains_its_own_scenarios_into_a_folder_of_its_own(tmp_path, capsys):
    out = tmp_path / "paper"
    argv = ["experiment", "regimes", "--quick", "--workers", "1", "--out", str(out)]
    assert cli.main([*argv, "--family", "economy_paper"]) == 0
    printed = capsys.readouterr().out
    assert "economy_paper_* scenarios" in printed
    runs = load_runs(f"{out}/seed_0/*")
    assert sorted(r.summary["scenario"] for r in runs) == sorted(
        regimes.family_regimes("economy_paper").values()
    )
    assert all(r.scenario["world"]["layout"] == "builtin" for r in runs)
    assert list(load_sweep(out)["cell"]) == ["free_market", "us_federal", "saez", "ai_planner"]
    assert list(stats.load_experiment(out)[0]) == list(REGIMES)
    # the folder is the paper family's: the fast one is refused there, naming the field
    with pytest.raises(ConfigError, match=r"budget\.family: .*economy_paper.*economy"):
        regimes.run(QUICK, out=out, workers=1, verbose=False)


def test_a_folder_from_before_families_counts_as_the_fast_economy(quick_out, tmp_path):
    out, _ = quick_out
    copy = tmp_path / "old"
    shutil.copytree(out, copy)
    manifest = copy / MANIFEST
    record = json.loads(manifest.read_text())
    del record["budget"]["family"]
    manifest.write_text(json.dumps(record))
    kept = regimes.run(QUICK, out=copy, workers=1, verbose=False)[0]
    assert list(kept) == list(REGIMES)
    assert json.loads(manifest.read_text())["budget"]["family"] == "economy"


def test_a_planner_variant_trains_only_the_planner_from_an_experiments_phase_1(
    quick_out, tmp_path, capsys
):
    out, paths = quick_out
    variant = tmp_path / "variant"
    shutil.copytree(out / "seed_0" / PHASE1, variant / "seed_0" / PHASE1)
    before = {p.name: p.stat().st_mtime_ns for p in (variant / "seed_0" / PHASE1).rglob("*")}
    settings = {"update_epochs": 3, "anneal_iterations": 1, "ent_coef": 0.3}
    got = regimes.run(QUICK, out=variant, workers=1, verbose=False, regimes=["ai_planner"],
                      planner=settings)  # fmt: skip
    assert list(got) == [0] and list(got[0]) == ["AI planner"]
    # phase 1 found done, not retrained; only the planner's run beside it
    after = {p.name: p.stat().st_mtime_ns for p in (variant / "seed_0" / PHASE1).rglob("*")}
    assert after == before
    assert [p.name for p in (variant / "seed_0").iterdir() if not p.name.startswith(".")] == [
        got[0]["AI planner"].name
    ]
    run, old = load_run(got[0]["AI planner"]), load_run(paths["AI planner"])
    assert {k: run.scenario["planner"][k] for k in settings} == settings
    assert run.scenario["planner"]["phase1_iterations"] == QUICK.phase1  # the budget's
    assert run.summary["training"]["forked_from"]["learners_only"] is False
    # the same phase 1 (its rows carried over), then a phase 2 of its own settings
    assert run.training_log.iloc[: QUICK.phase1]["objective"].isna().all()
    keep = ["agents_return", "agents_entropy"]
    pd.testing.assert_frame_equal(
        run.training_log.iloc[: QUICK.phase1][keep], old.training_log.iloc[: QUICK.phase1][keep]
    )
    assert json.loads((variant / MANIFEST).read_text())["budget"]["planner"] == dict(
        sorted(settings.items())
    )
    table = load_sweep(variant)
    assert list(table["regime"]) == ["AI planner"] and (table["status"] == "ok").all()
    # other planner settings into the same folder are refused, naming the field
    with pytest.raises(ConfigError, match=r"budget\.planner\.update_epochs: .*3.*4"):
        regimes.run(QUICK, out=variant, workers=1, verbose=False, regimes=["ai_planner"],
                    planner={**settings, "update_epochs": 4})  # fmt: skip
    # tabled with the experiment's other regimes: the same worlds, paired world by world
    capsys.readouterr()
    assert (
        cli.main(["experiment", "regimes", "--table", str(variant), "--reference", str(out)]) == 0
    )
    printed = capsys.readouterr().out
    combined = stats.with_reference(
        stats.load_experiment(variant, partial=True), stats.load_experiment(out)
    )
    assert combined[0]["AI planner"].path == got[0]["AI planner"]
    assert combined[0]["Saez"].path == paths["Saez"]
    assert stats.format_experiment(combined) in printed
    assert stats.format_details(combined[0]) in printed
    with pytest.raises(ValueError, match="no finished run of free market"):
        stats.load_experiment(variant)


def test_a_variant_evaluated_on_other_worlds_is_not_paired(quick_out, tmp_path):
    out, paths = quick_out
    reference = stats.load_experiment(out)
    other = dataclasses.replace(
        reference[0]["AI planner"], summary={**reference[0]["AI planner"].summary, "seed": 7}
    )
    assert stats.same_worlds(reference[0]["Saez"], reference[0]["AI planner"])
    assert not stats.same_worlds(reference[0]["Saez"], other)
    with pytest.raises(ValueError, match="different worlds"):
        stats.with_reference({0: {"AI planner": other}}, reference)
    with pytest.raises(ValueError, match="training seed 3"):
        stats.with_reference({3: {"AI planner": reference[0]["AI planner"]}}, reference)
    # worlds that drew other skills under the same seed are told apart too
    eps = reference[0]["AI planner"].episodes.copy()
    eps["build_skill"] = eps["build_skill"] + 0.5
    shifted = dataclasses.replace(reference[0]["AI planner"], episodes=eps)
    assert not stats.same_worlds(reference[0]["Saez"], shifted)


def test_planner_settings_and_regimes_are_checked_before_anything_trains(tmp_path, capsys):
    with pytest.raises(ValueError, match="planner.entropy: unknown"):
        regimes.run(QUICK, out=tmp_path / "a", verbose=False, planner={"entropy": 1.0})
    with pytest.raises(ValueError, match="phase 1 is the budget's"):
        regimes.run(QUICK, out=tmp_path / "a", verbose=False, planner={"phase1_iterations": 3})
    with pytest.raises(ConfigError, match=r"planner\.update_epochs"):
        regimes.run(QUICK, out=tmp_path / "a", verbose=False, planner={"update_epochs": 0})
    with pytest.raises(ValueError, match="regimes: got 'planner', need some of free_market"):
        regimes.run(QUICK, out=tmp_path / "a", verbose=False, regimes=["planner"])
    assert not (tmp_path / "a").exists()
    assert regimes.chosen_regimes(["ai_planner", "free market"]) == ["free market", "AI planner"]
    assert regimes.chosen_regimes(None) == list(REGIMES)
    base = ["experiment", "regimes", "--quick", "--out", str(tmp_path / "b")]
    assert cli.main([*base, "--planner", "entropy=1"]) == 2
    err = capsys.readouterr().err
    assert "planner.entropy: unknown" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as info:
        cli.main([*base, "--planner", "anneal_iterations"])
    assert info.value.code == 2 and "FIELD=VALUE" in capsys.readouterr().err
    assert cli.main(["experiment", "regimes", "--reference", str(tmp_path)]) == 2
    assert "--reference goes with --table" in capsys.readouterr().err
