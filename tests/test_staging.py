"""The run store on its own: resume checks, forks, and a fork refused where nothing learns."""

from __future__ import annotations

import json

import pytest

from coopsim import scenario as sc
from coopsim import staging
from coopsim.record import load_run
from coopsim.runner import run_scenario
from coopsim.schema import ConfigError
from coopsim.staging import Fork, begin, check_resumable, training_setup
from coopsim.train import Trainer, planner_schedule


def test_first_difference_names_the_dotted_field():
    old = {"training": {"iterations": 6}, "mechanisms": [{"kind": "tax", "rate": 0.1}]}
    new = {"training": {"iterations": 6}, "mechanisms": [{"kind": "tax", "rate": 0.2}]}
    assert staging.first_difference(old, new) == ("mechanisms[0].rate", 0.1, 0.2)
    assert staging.first_difference(old, old) is None
    assert staging.first_difference({}, {"fork": None}) is None  # absent reads as None


def test_a_folder_is_resumed_only_under_the_setup_it_began_with(tmp_path):
    scenario = sc.load("public_goods_learning")
    fork = {"folder": ".phase1", "iteration": 2, "learners_only": True}
    begin(tmp_path, training_setup(scenario.to_dict(), 3, "cpu", fork), iterations=5)
    assert json.loads((tmp_path / staging.TRAINING).read_text())["fork"] == fork
    check_resumable(tmp_path, training_setup(scenario.to_dict(), 3, "cpu", fork))
    with pytest.raises(ConfigError, match=r"fork\.iteration: .*2.*3.*do this") as info:
        check_resumable(tmp_path, training_setup(scenario.to_dict(), 3, "cpu", {**fork, "iteration": 3}),
                        hint="do this")  # fmt: skip
    assert str(tmp_path) in str(info.value)
    with pytest.raises(ConfigError, match=r"fork\.folder: .*'.phase1'.*None"):  # not forked
        check_resumable(tmp_path, training_setup(scenario.to_dict(), 3, "cpu"))


def test_a_fork_of_another_scenario_takes_only_the_learners(tmp_path):
    scenario = sc.load("public_goods_learning")
    scenario.training.num_worlds = 4
    trainer = Trainer(scenario, seed=0, iterations=2)
    trainer.train_iteration()
    staging.save_checkpoint(trainer, tmp_path / "base")
    fork = Fork(tmp_path / "base", 1, learners_only=True)
    state = fork.state()
    assert set(state) == {"iteration", "agent_steps", "learners", "planner", "rates"}
    assert state["planner"] is None and state["iteration"] == 1
    assert set(Fork(tmp_path / "base", 1, learners_only=False).state()) == set(trainer.state_dict())
    assert fork.describe(tmp_path) == {"folder": "base", "iteration": 1, "learners_only": True}


def test_a_scenario_that_does_not_learn_cannot_fork(tmp_path):
    fork = Fork(tmp_path / "base", 1, learners_only=True)
    with pytest.raises(ConfigError, match="fork: .*does not learn"):
        run_scenario(sc.load("public_goods"), out=tmp_path, fork=fork)
    assert list(tmp_path.iterdir()) == []


def test_a_planner_run_records_the_schedule_it_was_evaluated_under(tmp_path):
    scenario = sc.load("tax_one_step_ai_planner")
    scenario.training.num_worlds = 16
    scenario.planner.phase1_iterations = 2
    run = load_run(run_scenario(scenario, out=tmp_path, iterations=4, episodes=8))
    trainer = Trainer(sc.load(run.path / "scenario.toml"))
    last = staging.list_checkpoints(run.path)[4]
    trainer.load_state_dict(staging.load_checkpoint(last))
    assert run.summary["training"]["planner_schedule"] == planner_schedule(trainer).tolist()
    assert "forked_from" not in run.summary["training"]


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_checkpoint_is_one_error_naming_the_file(tmp_path, damage):
    import torch

    from coopsim.staging import load_checkpoint

    path = tmp_path / "iteration-000010.pt"
    torch.save({"w": torch.arange(1000.0)}, path)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[:200], "garbage": b"\x00junk" * 50, "empty": b""}[damage])
    with pytest.raises(ConfigError) as err:
        load_checkpoint(path)
    assert str(err.value).startswith(f"{path}: (checkpoint): cannot be read (")
    assert "--fresh starts over" in str(err.value) and "\n" not in str(err.value)
