"""Cells that differ only in mechanism controls, evaluated as the batch axis of one world.

A world steps B worlds at once, and a mechanism's controls (a tax's rates, a quota's cap:
:meth:`~mechanisms.base.Mechanism.control_fields`) are per world, ``[B, K]``. So the cells of
a sweep whose scenarios differ only in such fields, at one seed, need not be separate
processes: one world of ``cells x episodes`` worlds, cell ``j`` owning worlds
``j*E .. (j+1)*E - 1`` with its own controls installed, plays them all in one rollout. Each
cell is still published as its own ordinary run directory.

Only scenarios that evaluate without training batch this way (a learning cell trains its own
agents). Worlds of one batch share the episode's random streams differently than separate
runs would, so a cell with random policies or a random world gets other draws of the same
distribution than its unbatched run; deterministic cells give exactly the same numbers.
"""

from __future__ import annotations

import json
import time
from typing import Any

from coopsim.files import atomic_write_text
from coopsim.sweeps.cells import CellTask, failed_row, row_of, run_cell


def batch_key(task: CellTask) -> str | None:
    """Tasks with the same key run as one batch; None: this task runs alone.

    The key is the cell's scenario with its swept control fields blanked, plus its seed, so
    cells share a key exactly when nothing but controls tells them apart.
    """
    from coopsim.scenario import from_dict
    from mechanisms import MECHANISMS

    if task.evaluation_seed is not None or task.folder_name is not None or task.device is not None:
        return None  # a cell with settings of its own runs alone
    scenario = from_dict(task.scenario, source=task.source)
    if scenario.learns:
        return None
    data = json.loads(json.dumps(task.scenario))
    for field in task.values:
        parts = field.split(".")
        if len(parts) != 3 or parts[0] != "mechanisms" or not parts[1].isdigit():
            return None
        mech = scenario.mechanisms[int(parts[1])]
        if parts[2] not in MECHANISMS[mech.kind].control_fields(mech.params):
            return None
        data["mechanisms"][int(parts[1])][parts[2]] = None
    return json.dumps({"scenario": data, "seed": task.seed, "episodes": task.episodes})


def run_unit(tasks: list[CellTask]) -> list[dict[str, Any]]:
    """Rows of a unit of work: one cell, or a batch of cells sharing a :func:`batch_key`."""
    todo = [t for t in tasks if t.finished() is None]
    if len(todo) <= 1:
        return [run_cell(t) for t in tasks]
    start = time.perf_counter()
    try:
        written = evaluate_batch(todo)
    except Exception as err:  # noqa: BLE001 - every cell of the batch reports the failure
        return [failed_row(t, f"{type(err).__name__}: {err}") for t in todo]
    wall = (time.perf_counter() - start) / len(todo)
    for task in todo:
        atomic_write_text(task.wall_file, json.dumps({"wall_s": wall, "batched": len(todo)}) + "\n")
    rows = {id(t): row_of(t, written[id(t)]) for t in todo}
    return [rows[id(t)] if id(t) in rows else run_cell(t) for t in tasks]


def evaluate_batch(tasks: list[CellTask]) -> dict[int, Any]:
    """Evaluate every task's cell in one world and publish one run directory each.

    Returns id(task) -> its run directory.
    """
    import pandas as pd
    import torch

    from coopsim.builder import build, describe_pipeline, make_pipeline, resolve_device
    from coopsim.evaluate import (
        Evaluation,
        episode_metrics,
        rollout,
        run_label,
        summarise,
        tidy_records,
    )
    from coopsim.record import RunWriter, new_run_name, run_metadata
    from coopsim.runner import _write_evaluation
    from coopsim.scenario import from_dict

    scenarios = [from_dict(t.scenario, source=t.source) for t in tasks]
    base, seed = scenarios[0], tasks[0].seed
    episodes = tasks[0].episodes or base.evaluation.episodes
    device = resolve_device(base.evaluation.device)
    n = len(tasks)
    torch.manual_seed(seed)
    built = build(base, n * episodes, device)  # one world per cell x episode
    world, population = built.world, built.population
    cells = [make_pipeline(s, 1, device) for s in scenarios]  # each cell's own rule
    for i, mech in enumerate(world.pipeline):
        per_cell = [cell.mechanisms[i].controls for cell in cells]
        controls = torch.cat(per_cell).repeat_interleave(episodes, 0)  # [n * E, K]
        if controls.shape[1]:
            mech.set_controls(controls)
    with torch.no_grad():
        records = rollout(world, population, seed)  # each [R, n * E, N]
    try:
        optimum: float | None = world.social_optimum()
    except NotImplementedError:
        optimum = None
    written = {}
    for j, (task, scenario) in enumerate(zip(tasks, scenarios)):
        part = {k: v[:, j * episodes : (j + 1) * episodes] for k, v in records.items()}
        table = pd.DataFrame(
            episode_metrics(
                part, world.endowment, optimum, scenario.objective, period=world.pipeline.period
            )
        )
        table.insert(0, "episode", range(episodes))
        summary = summarise(table, run_label(scenario.name, seed))
        result = Evaluation(tidy_records(part, population.agent_policy), table, summary)
        described = describe_pipeline(cells[j])
        summary = run_metadata(scenario, seed, described, episodes=episodes, batched_cells=n)
        summary["metrics"] = result.summary
        with RunWriter(task.folder, new_run_name(scenario.name, seed)) as writer:
            _write_evaluation(writer, scenario.to_dict(), result, summary)
        written[id(task)] = writer.final
    return written
