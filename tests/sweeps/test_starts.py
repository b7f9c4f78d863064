"""Shared starts: trained once before the cells that continue them, failures named in the rows."""

from __future__ import annotations

from coopsim import scenario as sc
from coopsim.record import load_run, load_sweep
from coopsim.staging import list_checkpoints
from coopsim.sweeps.cells import CellTask, StartFork
from coopsim.sweeps.driver import run_tasks
from coopsim.sweeps.spec import cell_data
from coopsim.sweeps.starts import SharedStart

START_AT = 2


def _learning() -> dict:
    scenario = sc.load("public_goods_learning")
    scenario.training.iterations = 3
    scenario.training.num_worlds = 4
    return scenario.to_dict()


def _cell(out, base: dict, rate: float, start: SharedStart | None, seed: int = 0) -> CellTask:
    values = {"training.learning_rate": rate}
    fork = None if start is None else StartFork(start, learners_only=True)
    return CellTask(
        str(out), f"lr_{rate}", values, cell_data(base, values), None, seed, 2, fork=fork
    )


def test_cells_continue_one_shared_start_trained_once(tmp_path):
    base = _learning()
    start = SharedStart("shared/.start", base, None, seed=0, iterations=START_AT)
    tasks = [_cell(tmp_path, base, rate, start) for rate in (0.01, 0.02)]
    result = run_tasks(tmp_path, tasks, ["training.learning_rate"], ["lr_0.01", "lr_0.02"])
    assert result.ran == 2 and (result.table["status"] == "ok").all()
    assert list(list_checkpoints(tmp_path / "shared" / ".start")) == [START_AT]
    first = []
    for _, row in result.table.iterrows():
        run = load_run(tmp_path / row["run"])
        forked = run.summary["training"]["forked_from"]
        assert forked["iteration"] == START_AT and forked["learners_only"]
        assert list(run.training_log["iteration"]) == [
            0,
            1,
            2,
        ]  # the start's two rows, then its own
        first.append(
            run.training_log.iloc[:START_AT].drop(columns=["run", "seconds"]).dropna(axis=1)
        )
    # both cells start from the same iterations: the start's, not two trainings of their own
    assert first[0].equals(first[1])
    assert load_sweep(tmp_path)["training.learning_rate"].tolist() == [0.01, 0.02]


def test_a_failed_start_fails_the_cells_that_fork_it_and_no_others(tmp_path):
    base = _learning()
    broken = SharedStart("shared/.start", {**base, "world": {}}, None, seed=0, iterations=1)
    tasks = [_cell(tmp_path, base, 0.01, broken), _cell(tmp_path, base, 0.02, None)]
    result = run_tasks(tmp_path, tasks, ["training.learning_rate"], ["lr_0.01", "lr_0.02"])
    forked, alone = (row for _, row in result.table.iterrows())
    assert (
        forked["status"] == "failed" and "its shared start shared/.start failed" in forked["error"]
    )
    assert "world" in forked["error"] and forked["run"] == ""
    assert alone["status"] == "ok"
    # run again: the finished cell is kept, the failed one tried again (and failing again)
    again = run_tasks(tmp_path, tasks, ["training.learning_rate"], ["lr_0.01", "lr_0.02"])
    assert again.ran == 1 and again.failed == 1
