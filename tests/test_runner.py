"""Learning runs: train, checkpoint, resume after a kill, evaluate what was learned.

A small public-goods learning scenario (8 worlds) is written to a temporary folder so each
training run takes a second or two; one reference run, trained without interruption, is what
interrupted and resumed runs must reproduce row for row.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import re
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
from coopsim.evaluate import evaluate
from coopsim.record import load_run
from coopsim.runner import run_scenario
from coopsim.schema import ConfigError
from coopsim.staging import LOCK, RunBusy, list_checkpoints, load_checkpoint, partial_dir
from coopsim.train import Trainer

ITERATIONS = 40
SEED = 1
WALL_CLOCK = ["seconds"]  # the only columns allowed to differ between identical runs


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread here and in the subprocesses: the small nets gain nothing from more,
    and on a shared 2-core machine spinning OpenMP threads slow a busy run down many times.
    Training in both must also use the same thread count to add up floats the same way."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    """public_goods_learning at 8 worlds, a checkpoint every 3 iterations, 8 eval episodes."""
    text = (sc.SCENARIO_DIR / "public_goods_learning.toml").read_text()
    text = text.replace('name = "public_goods_learning"', 'name = "small_learning"')
    text = text.replace("num_worlds = 64", "num_worlds = 8\ncheckpoint_every = 3")
    text = text.replace("episodes = 32", "episodes = 8")
    path = tmp_path_factory.mktemp("scenarios") / "small_learning.toml"
    path.write_text(text)
    assert sc.load(path).training.checkpoint_every == 3
    return path


@pytest.fixture(scope="module")
def reference(scenario_file, tmp_path_factory) -> Path:
    """The uninterrupted run that every resumed run must match."""
    out = tmp_path_factory.mktemp("reference")
    return run_scenario(sc.load(scenario_file), seed=SEED, out=out, iterations=ITERATIONS)


def metrics_without_clock(run: Path) -> pd.DataFrame:
    return pd.read_parquet(run / "training_log.parquet").drop(columns=WALL_CLOCK)


def coopsim_run(scenario: Path, out: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "coopsim.cli", "run", str(scenario), "--seed", str(SEED)]
    cmd += ["--out", str(out), "--iterations", str(ITERATIONS), *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_metrics_rows_checkpoints_and_summary(reference, scenario_file):
    run = load_run(reference)
    assert list(run.training_log["iteration"]) == list(range(ITERATIONS))  # one row per iteration
    assert {"agents_return", "agents_policy_loss", "agents_value_loss", "agents_entropy"} <= set(
        run.training_log.columns
    )
    assert {"contribution_rate", "agent_steps", "seconds"} <= set(run.training_log.columns)
    training = run.summary["training"]
    assert training["iterations"] == ITERATIONS and training["seed"] == SEED
    assert training["agent_steps"] == run.training_log["agent_steps"].iloc[-1] > 0
    assert training["seconds"] == pytest.approx(run.training_log["seconds"].sum())
    assert training["resumed_from"] is None
    assert "objective" in run.summary["metrics"]
    # the staging folder was published, not copied
    assert [p.name for p in reference.parent.iterdir()] == [reference.name]
    assert not (reference / LOCK).exists() and not (reference / "training.json").exists()
    # a checkpoint every 3 iterations and one after the last
    checkpoints = list_checkpoints(reference)
    assert list(checkpoints) == [*range(3, ITERATIONS, 3), ITERATIONS]
    scenario = sc.load(reference / "scenario.toml")
    assert scenario.training.iterations == ITERATIONS  # the budget actually trained
    for it, path in checkpoints.items():
        state = load_checkpoint(path)
        assert state["iteration"] == it
    # the final checkpoint alone reproduces the run's evaluation
    trainer = Trainer(scenario, seed=SEED)
    trainer.load_state_dict(load_checkpoint(checkpoints[ITERATIONS]))
    again = evaluate(scenario, seed=SEED, population=trainer.population)
    assert again.summary == run.summary["metrics"]


def test_killed_run_resumes_from_its_checkpoint(reference, scenario_file, tmp_path):
    out = tmp_path / "runs"
    folder = partial_dir(out, "small_learning", SEED)
    proc = coopsim_run(scenario_file, out)
    deadline = time.monotonic() + 60
    try:
        while not list_checkpoints(folder) and proc.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert list(out.iterdir()) == [folder]  # nothing published, the staging folder kept
    killed_at = max(list_checkpoints(folder))
    assert 0 < killed_at < ITERATIONS

    proc = coopsim_run(scenario_file, out)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    resumed = int(re.search(r"from iteration (\d+) of", stderr).group(1))
    assert resumed == killed_at
    run = Path(stdout.strip().splitlines()[-1])
    assert run.parent == out and not folder.exists()
    assert sorted(p.name for p in out.iterdir()) == [run.name]
    assert json.loads((run / "summary.json").read_text())["training"]["resumed_from"] == resumed
    pd.testing.assert_frame_equal(metrics_without_clock(run), metrics_without_clock(reference))
    assert (
        json.loads((run / "summary.json").read_text())["metrics"]
        == json.loads((reference / "summary.json").read_text())["metrics"]
    )


class Stop(Exception):
    pass


def test_rows_after_the_checkpoint_are_dropped_and_recomputed(
    reference, scenario_file, tmp_path, monkeypatch
):
    # the training log after every iteration, so rows after the last checkpoint are on disk
    monkeypatch.setattr(staging, "METRICS_EVERY_S", 0.0)
    monkeypatch.setattr(staging, "METRICS_BACKOFF", 0.0)
    scenario = sc.load(scenario_file)
    seen: list[tuple[int, int]] = []

    def stop_after_7(done: int, total: int, row: dict[str, float]) -> None:
        seen.append((done, total))
        assert row["iteration"] == done - 1
        if done == 7:  # checkpoints at 3 and 6, metrics rows for 7 iterations
            raise Stop

    with pytest.raises(Stop):
        run_scenario(
            scenario, seed=SEED, out=tmp_path, iterations=ITERATIONS, progress=stop_after_7
        )
    assert seen == [(k, ITERATIONS) for k in range(1, 8)]
    folder = partial_dir(tmp_path, "small_learning", SEED)
    assert len(pd.read_parquet(folder / "training_log.parquet")) == 7
    assert list(list_checkpoints(folder)) == [3, 6]

    seen.clear()
    run = run_scenario(
        scenario, seed=SEED, out=tmp_path, iterations=ITERATIONS, progress=lambda *a: seen.append(a)
    )
    assert [done for done, *_ in seen] == list(range(7, ITERATIONS + 1))  # from the checkpoint
    assert json.loads((run / "summary.json").read_text())["training"]["resumed_from"] == 6
    pd.testing.assert_frame_equal(metrics_without_clock(run), metrics_without_clock(reference))


def test_other_settings_are_not_resumed_silently(scenario_file, tmp_path):
    scenario = sc.load(scenario_file)

    def stop_at_3(done: int, total: int, row: dict[str, float]) -> None:
        if done == 3:
            raise Stop

    with pytest.raises(Stop):
        run_scenario(scenario, seed=SEED, out=tmp_path, iterations=6, progress=stop_at_3)
    with pytest.raises(ConfigError, match=r"training\.iterations: .* 6.* 5") as info:
        run_scenario(scenario, seed=SEED, out=tmp_path, iterations=5)
    assert "--fresh" in str(info.value)
    run = run_scenario(scenario, seed=SEED, out=tmp_path, iterations=5, fresh=True)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["training"]["resumed_from"] is None
    assert len(pd.read_parquet(run / "training_log.parquet")) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == [run.name]


def test_a_run_in_progress_is_not_shared(scenario_file, tmp_path):
    folder = partial_dir(tmp_path, "small_learning", SEED)
    folder.mkdir(parents=True)
    with open(folder / LOCK, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(RunBusy, match="another process"):
            run_scenario(sc.load(scenario_file), seed=SEED, out=tmp_path, iterations=2)


def test_learners_behave_as_trained(tmp_path):
    """Four PPO learners in a public-goods game with MPCR 0.4 learn to free ride."""
    scenario = sc.load("public_goods_learning")
    run = run_scenario(scenario, out=tmp_path, iterations=25, episodes=32)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["metrics"]["contribution_rate"]["mean"] < 0.10
    assert summary["training"]["iterations"] == 25
    assert summary["training"]["agent_steps"] == 25 * 64 * 10 * 4  # iterations x B x T x N
    episodes = pd.read_parquet(run / "episodes.parquet")
    assert set(episodes["policy"]) == {"ppo"}


@pytest.mark.parametrize("iterations", ["0", "-3", "many"])
def test_bad_iterations_is_a_usage_error(capsys, tmp_path, iterations):
    out = tmp_path / "runs"
    with pytest.raises(SystemExit) as info:
        cli.main(["run", "public_goods_learning", "--iterations", iterations, "--out", str(out)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--iterations" in err and ">= 1" in err and "Traceback" not in err
    assert not out.exists()


def test_iterations_for_a_scenario_that_does_not_learn(capsys, tmp_path):
    code = cli.main(["run", "public_goods", "--iterations", "5", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "iterations" in err and "does not learn" in err and "Traceback" not in err
    with pytest.raises(ConfigError, match="iterations: got 0"):
        run_scenario(sc.load("public_goods_learning"), out=tmp_path, iterations=0)
    assert list(tmp_path.iterdir()) == []


def test_checkpoint_round_trip_restores_every_generator(scenario_file):
    """The state that makes resumption exact: nets, optimiser moments, sampling generators."""
    scenario = sc.load(scenario_file)
    trainer = Trainer(scenario, seed=SEED, iterations=4)
    for _ in range(2):
        trainer.train_iteration()
    state = trainer.state_dict()
    other = Trainer(scenario, seed=SEED, iterations=4)
    buffer = io.BytesIO()  # as a checkpoint file: state_dict() holds live tensors
    torch.save(state, buffer)
    buffer.seek(0)
    other.load_state_dict(torch.load(buffer, weights_only=True))
    (learner, _), (restored, _) = trainer.learners[0], other.learners[0]
    assert torch.equal(learner.gen.get_state(), restored.gen.get_state())
    assert other.iteration == 2 and other.agent_steps == trainer.agent_steps
    moments = restored.opt.state_dict()["state"]
    assert all(
        torch.equal(moments[k]["exp_avg"], v["exp_avg"])
        for k, v in learner.opt.state_dict()["state"].items()
    )
    strip = [
        {k: v for k, v in r.items() if k not in WALL_CLOCK}
        for r in (trainer.train_iteration(), other.train_iteration())
    ]
    assert strip[0] == strip[1]


def test_app_job_trains_a_learning_design_and_reports_each_iteration(scenario_file, tmp_path):
    from coopsim.app import jobs, worker

    design = scenario_file.read_text().replace("iterations = 30", "iterations = 4")
    job = jobs.prepare(design, tmp_path, seeds=[2], episodes=4, name="learning")
    assert worker.work(job.path) == 0
    status = jobs.load(job.path).status
    assert status["state"] == "done", status.get("error")
    # one entry per iteration, numbered as in the training log
    assert [row["iteration"] for row in status["iterations"]] == [0, 1, 2, 3]
    assert "agents_return" in status["iterations"][0]
    run = load_run(status["runs"][0])
    assert len(run.training_log) == 4 and run.summary["training"]["seed"] == 2
