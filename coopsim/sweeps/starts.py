"""Shared starts: the first iterations of a training, run once and continued by several cells.

The AI Economist's curriculum trains the agents alone, with no tax, before any regime applies
(phase 1). Every tax regime at one training seed continues from that one checkpoint, so the
regimes differ by their taxes, not by how their first iterations went, and phase 1 is paid
once instead of once per regime. In a sweep such a start runs before the cells that fork it
(:class:`~coopsim.sweeps.cells.StartFork`), through the same backend, in a hidden folder of
the sweep: a start killed part-way resumes from its last checkpoint when the sweep is run
again, and one already trained is found done.

The start trains its scenario with the whole budget (``training.iterations``) and stops after
``iterations``, so that what depends on the budget (the entropy schedule, say) is what a cell
continuing the same trainer sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coopsim.paths import inside

OK = "ok"
FAILED = "failed"


@dataclass(frozen=True)
class SharedStart:
    """One shared start, as plain data a worker process or a Ray task can take."""

    folder: str  # under the sweep's folder, e.g. "seed_0/.phase1"
    scenario: dict[str, Any]  # the trainer's scenario as plain data, its whole budget included
    source: str | None  # where the scenario came from, for messages
    seed: int  # training seed
    iterations: int  # where it stops: the checkpoint its cells continue from
    device: str | None = None  # None: the scenario's

    def path(self, sweep_dir: str | Path) -> Path:
        return inside(sweep_dir, self.folder)


@dataclass(frozen=True)
class StartTask:
    """A shared start to train in a given sweep folder (a unit of work for the backends)."""

    sweep_dir: str
    start: SharedStart


def train_start(task: StartTask) -> Path:
    """Train (or resume, or find done) a shared start; return its folder, which then holds a
    checkpoint at ``start.iterations``."""
    from coopsim.builder import resolve_device
    from coopsim.scenario import from_dict
    from coopsim.staging import Staging, training_setup
    from coopsim.train import Trainer

    start = task.start
    folder = start.path(task.sweep_dir)
    scenario = from_dict(start.scenario, source=start.source)
    device = str(resolve_device(start.device or scenario.training.device))
    setup = training_setup(scenario.to_dict(), start.seed, device)
    hint = f"delete {folder} or use another --out to train these settings"
    with Staging(folder, setup, start.iterations, hint=hint) as stage:
        trainer = Trainer(scenario, seed=start.seed, device=device)
        stage.start(trainer)
        record = stage.recorder(scenario.training.checkpoint_every)
        while trainer.iteration < start.iterations:
            record(trainer, trainer.train_iteration())
    return folder


def run_starts(tasks: list[StartTask]) -> list[dict[str, Any]]:
    """Train each start; one row each (``folder``, ``status``, ``error``). A failure is a row."""
    rows = []
    for task in tasks:
        try:
            train_start(task)
        except Exception as err:  # noqa: BLE001 - the cells that fork it report it
            rows.append(failed_start(task, f"{type(err).__name__}: {err}"))
        else:
            rows.append({"folder": task.start.folder, "status": OK, "error": ""})
    return rows


def failed_start(task: StartTask, error: str) -> dict[str, Any]:
    return {"folder": task.start.folder, "status": FAILED, "error": error}
