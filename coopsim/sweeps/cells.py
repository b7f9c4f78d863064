"""One cell x seed of a sweep: an ordinary run directory, and its row of the sweep table.

A :class:`CellTask` carries everything a worker needs as plain data (the cell's scenario as a
dict, its seed, the folder), so it runs the same in a local process, a Ray task on another
node, or the driver itself. Its run lands in ``<sweep>/<cell name>/``, one folder per cell,
because a learning run's staging folder is keyed by scenario name and seed alone: cells of one
scenario must not share it. (Cells of different scenarios may share a folder: the regimes
experiment keeps one folder per training seed, holding every regime's run and the phase 1 they
continue.) Everything that makes a cell safe to kill is the runner's: a run directory appears
whole or not at all, and a learning run resumes from its checkpoints.

A cell may continue a :class:`~coopsim.sweeps.starts.SharedStart` (the first iterations of a
training, run once for several cells) instead of training from scratch: ``fork`` says which,
and whether it takes the whole trainer or the learners alone.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coopsim.paths import inside
from coopsim.record import SUMMARY, atomic_write_text
from coopsim.sweeps.starts import SharedStart

OK = "ok"
FAILED = "failed"
BUSY_WAIT_S = 120.0  # how long a cell waits for a killed sweep's orphaned worker to let go


@dataclass(frozen=True)
class StartFork:
    """Where a cell's training starts: a shared start's last checkpoint."""

    start: SharedStart
    learners_only: bool  # a trainer of another scenario takes only the learners


@dataclass(frozen=True)
class CellTask:
    """One cell x seed, as plain data a worker process or a Ray task can take."""

    sweep_dir: str  # the sweep's folder, shared by every worker (a shared disk on a cluster)
    cell_name: str  # the cell's name in the table (and its folder, unless folder_name)
    values: dict[str, Any]  # field -> value
    scenario: dict[str, Any]  # the cell's scenario as plain data (validated by the driver)
    source: str | None  # where the base scenario came from, for messages
    seed: int
    episodes: int | None = None  # evaluation episodes; None: the scenario's
    # Evaluate on this seed (and name the run after it) while training on ``seed``, so that
    # cells and training seeds are all evaluated on the same worlds; None: ``seed`` seeds both.
    evaluation_seed: int | None = None
    fork: StartFork | None = None  # continue a shared start instead of training from scratch
    device: str | None = None  # None: the scenario's
    folder_name: str | None = None  # a folder under sweep_dir shared with other cells

    @property
    def folder(self) -> Path:
        return inside(self.sweep_dir, self.folder_name or self.cell_name)

    @property
    def run_seed(self) -> int:
        """The seed the run is evaluated on and named after."""
        return self.seed if self.evaluation_seed is None else self.evaluation_seed

    @property
    def wall_file(self) -> Path:
        if self.folder_name is None:
            return self.folder / f".wall-s{self.seed}.json"
        return self.folder / f".wall-{self.cell_name}-s{self.seed}.json"

    def finished(self) -> Path | None:
        """This cell x seed's published run, or None."""
        return finished_run(self.folder, self.run_seed, self.scenario.get("name"))


def finished_run(folder: Path, seed: int, scenario: str | None = None) -> Path | None:
    """The published run of ``seed`` (and of ``scenario``, if named) in a folder, or None."""
    if not folder.is_dir():
        return None
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not (path / SUMMARY).is_file():
            continue
        summary = json.loads((path / SUMMARY).read_text())
        if summary.get("seed") == seed and scenario in (None, summary.get("scenario")):
            return path
    return None


def run_cell(task: CellTask) -> dict[str, Any]:
    """Run (or find finished) one cell x seed; return its row. A failure is a row too."""
    start = time.perf_counter()
    try:
        path = task.finished()
        if path is None:
            path = _run(task)
            wall = time.perf_counter() - start
            atomic_write_text(task.wall_file, json.dumps({"wall_s": wall}) + "\n")
    except Exception as err:  # noqa: BLE001 - the sweep goes on; the row says what went wrong
        return failed_row(task, f"{type(err).__name__}: {err}", time.perf_counter() - start)
    return row_of(task, path)


def _run(task: CellTask) -> Path:
    from coopsim.runner import run_scenario
    from coopsim.scenario import from_dict
    from coopsim.staging import Fork, RunBusy

    scenario = from_dict(task.scenario, source=task.source)
    seed: int | None = task.seed
    if task.evaluation_seed is not None:
        scenario.evaluation.seed = task.evaluation_seed
        if scenario.training is not None:
            scenario.training.seed = task.seed
        seed = None  # each section's own seed
    fork = None
    if task.fork is not None:
        start = task.fork.start
        fork = Fork(start.path(task.sweep_dir), start.iterations, task.fork.learners_only)
    waited = 0.0
    while True:
        try:
            return run_scenario(
                scenario,
                seed=seed,
                out=task.folder,
                episodes=task.episodes,
                device=task.device,
                fork=fork,
            )
        except RunBusy:
            # A worker of a killed sweep may still hold the cell's lock for a moment.
            if waited >= BUSY_WAIT_S:
                raise
            time.sleep(1.0)
            waited += 1.0


def row_of(task: CellTask, path: Path) -> dict[str, Any]:
    """The table's row for a finished run: values, seed, every metric with its interval."""
    summary = json.loads((path / SUMMARY).read_text())
    row: dict[str, Any] = {"cell": task.cell_name, **task.values, "seed": task.seed}
    for metric, stats in summary.get("metrics", {}).items():
        row[metric] = stats["mean"]
        row[f"{metric}_ci_low"] = stats["ci_low"]
        row[f"{metric}_ci_high"] = stats["ci_high"]
    wall = math.nan
    if task.wall_file.exists():
        wall = json.loads(task.wall_file.read_text())["wall_s"]
    row.update(status=OK, error="", wall_s=wall, run=str(path.relative_to(task.sweep_dir)))
    return row


def failed_row(task: CellTask, error: str, wall_s: float = math.nan) -> dict[str, Any]:
    return {
        "cell": task.cell_name,
        **task.values,
        "seed": task.seed,
        "status": FAILED,
        "error": error,
        "wall_s": wall_s,
        "run": "",
    }
