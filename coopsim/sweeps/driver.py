"""Run a sweep: validate every cell, skip what is finished, run the rest, gather one table.

The order is what makes a sweep as safe as a run:

1. every cell's scenario is built and checked before anything runs or is written, so a bad
   field or value stops the sweep with one message naming it;
2. ``<sweep>/sweep.json`` records the base scenario; a second sweep of another base scenario
   into the same folder is refused, naming the first field that differs;
3. cells whose run directory is already published are read back, not run; the others go to
   the backend, and a learning cell killed mid-training resumes from its checkpoints (the
   runner's staging folder lives in the cell's folder);
4. ``sweep.parquet`` is rewritten atomically as rows arrive (every few seconds) and once at the
   end, so a killed sweep leaves a readable table of what it finished.

Killed at any point and started again with the same command, a sweep therefore ends with the
same table as one that never stopped (``wall_s`` aside).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from coopsim.paths import inside
from coopsim.record import atomic_write_text
from coopsim.schema import ConfigError
from coopsim.sweeps.backends import OnRow, Unit, check_backend, run_units
from coopsim.sweeps.batched import batch_key
from coopsim.sweeps.cells import FAILED, OK, CellTask, failed_row, row_of
from coopsim.sweeps.spec import WHERE, Cell, SweepSpec, cell_scenario
from coopsim.sweeps.starts import StartTask, failed_start, run_starts
from coopsim.sweeps.table import sweep_frame, write_table

MANIFEST = "sweep.json"
TABLE_EVERY_S = 5.0  # seconds between rewrites of the table while cells finish

# Called as cells finish with (cells x seeds done, in all).
ProgressFn = Callable[[int, int], None]


@dataclass
class SweepResult:
    folder: Path
    table: pd.DataFrame  # one row per cell x seed (see coopsim.sweeps.table)
    ran: int  # cells x seeds run by this call (the rest were finished already)

    @property
    def failed(self) -> int:
        return int((self.table["status"] == FAILED).sum())


def plan(
    scenario: Any, spec: SweepSpec, out: str | os.PathLike, episodes: int | None = None
) -> tuple[list[Cell], list[CellTask]]:
    """Every cell, checked, and its tasks (cell x seed), before anything is written."""
    cells = spec.cells()
    if not cells or not spec.fields:
        raise ConfigError(WHERE, "--set", "nothing to sweep: give at least one FIELD=VALUES")
    names = [c.name for c in cells]
    if len(set(names)) < len(names):
        dup = next(c for c in cells if names.count(c.name) > 1)
        raise ConfigError(WHERE, "--set", f"the cell {dup.label} appears twice")
    base = scenario.to_dict()
    tasks = []
    for cell in cells:
        checked = cell_scenario(base, cell, scenario.source).to_dict()
        for seed in spec.seeds:
            tasks.append(
                CellTask(str(out), cell.name, cell.values, checked, scenario.source, seed, episodes)
            )
    return cells, tasks


def claim(folder: Path, scenario: Any, spec: SweepSpec, episodes: int | None) -> None:
    """Write (or check) ``sweep.json``: one base scenario and evaluation budget per folder."""
    from coopsim.staging import first_difference

    manifest = inside(folder, MANIFEST)
    wanted = {"scenario": scenario.to_dict(), "episodes": episodes}
    if manifest.exists():
        stored = json.loads(manifest.read_text())
        was = {"scenario": stored.get("scenario"), "episodes": stored.get("episodes")}
        diff = first_difference(was, wanted)
        if diff is not None:
            field, old, new = diff
            raise ConfigError(
                str(manifest),
                field,
                f"this sweep folder holds {old!r}, this sweep asks for {new!r}; "
                "use another --out for another base scenario",
            )
    record = {**wanted, "fields": spec.fields, "seeds": spec.seeds}
    atomic_write_text(manifest, json.dumps(record, indent=2, default=str) + "\n")


def units(tasks: list[CellTask], batch: bool = True) -> list[Unit]:
    """Tasks grouped into units of work: a batch per :func:`batch_key`, the rest one each."""
    if not batch:
        return [[task] for task in tasks]
    grouped: dict[str, Unit] = {}
    alone: list[Unit] = []
    for task in tasks:
        key = batch_key(task)
        if key is None:
            alone.append([task])
        else:
            grouped.setdefault(key, []).append(task)
    return [*grouped.values(), *alone]


def run_sweep(
    scenario: Any,
    spec: SweepSpec,
    out: str | os.PathLike,
    *,
    backend: str = "local",
    workers: int = 1,
    episodes: int | None = None,
    progress: ProgressFn | None = None,
    progress_bar: bool = False,
    batch: bool = True,
) -> SweepResult:
    """Run every cell x seed of ``spec`` over ``scenario`` into ``out``; see the module.

    ``batch`` evaluates cells that differ only in mechanism controls as one batched world
    (:mod:`coopsim.sweeps.batched`); without it every cell x seed is its own unit of work.
    """
    folder = Path(out)
    cells, tasks = plan(scenario, spec, folder, episodes)
    folder.mkdir(parents=True, exist_ok=True)
    claim(folder, scenario, spec, episodes)
    return run_tasks(
        folder,
        tasks,
        spec.fields,
        [c.name for c in cells],
        backend=backend,
        workers=workers,
        progress=progress,
        progress_bar=progress_bar,
        batch=batch,
    )


def run_tasks(
    folder: Path,
    tasks: list[CellTask],
    fields: list[str],
    order: list[str],
    *,
    backend: str = "local",
    workers: int = 1,
    progress: ProgressFn | None = None,
    progress_bar: bool = False,
    batch: bool = True,
    kept: list[dict[str, Any]] | None = None,
) -> SweepResult:
    """Run the unfinished ``tasks`` (checked already) and write the table of them all.

    What :func:`run_sweep` does once its cells are planned, for callers that make their own
    tasks (the regimes experiment: other scenarios per cell, evaluation on shared worlds,
    shared starts). The shared starts the unfinished tasks fork run first, through the same
    backend; a cell whose start failed is a failed row. ``fields`` are the table's leading
    columns and ``order`` the cells' names in table order; ``kept`` are rows of other tasks
    that the table keeps (an experiment's earlier seeds).
    """
    check_backend(backend)
    rows: list[dict[str, Any]] = []
    pending = []
    for task in tasks:
        done = task.finished()
        if done is None:
            pending.append(task)
        else:
            rows.append(row_of(task, done))
    kept = list(kept or [])
    bar = None
    if progress_bar:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), initial=len(rows), desc="sweep", unit="run")
    written = time.monotonic()

    def on_row(row: dict[str, Any]) -> None:
        nonlocal written
        rows.append(row)
        if bar is not None:
            bar.update(1)
        if progress is not None:
            progress(len(rows), len(tasks))
        if time.monotonic() - written >= TABLE_EVERY_S:
            write_table(folder, sweep_frame([*kept, *rows], fields, order))
            written = time.monotonic()

    if progress is not None:
        progress(len(rows), len(tasks))
    try:
        ready = run_shared_starts(folder, pending, backend, workers, on_row)
        run_units(units(ready, batch), backend, workers, on_row)
    finally:
        if bar is not None:
            bar.close()
        table = sweep_frame([*kept, *rows], fields, order)
        write_table(folder, table)
    return SweepResult(folder, table, ran=len(pending))


def run_shared_starts(
    folder: Path, tasks: list[CellTask], backend: str, workers: int, on_row: OnRow
) -> list[CellTask]:
    """Train the shared starts that ``tasks`` fork (each once, side by side); return the tasks
    ready to run. Those whose start failed go to ``on_row`` as failed rows instead."""
    starts = {t.fork.start.folder: t.fork.start for t in tasks if t.fork is not None}
    if not starts:
        return tasks
    failures: dict[str, str] = {}

    def on_start(row: dict[str, Any]) -> None:
        if row["status"] != OK:
            failures[row["folder"]] = row["error"]

    units_of_starts = [[StartTask(str(folder), start)] for start in starts.values()]
    run_units(units_of_starts, backend, workers, on_start, work=run_starts, failed=failed_start)
    ready = []
    for task in tasks:
        where = task.fork.start.folder if task.fork is not None else None
        if where in failures:
            on_row(failed_row(task, f"its shared start {where} failed: {failures[where]}"))
        else:
            ready.append(task)
    return ready
