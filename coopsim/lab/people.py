"""'People who played here' as a stress population: a schedule estimated from recorded seats.

Why a schedule and not a replay of the rounds: a population must play under any rule and
against any other seats, so replaying what people did round by round would answer situations
they never met. Instead each recorded human round is read as one point of a conditional
contribution: the others' mean share of their endowment last round (what a seat observes)
-> the share of their own endowment the person gave. The points are averaged at
``POINTS`` evenly spaced values of the others' share (each at the nearest), empty ones filled
linearly from their neighbours; the first round, where nothing was observed, gives ``initial``.
:class:`coopsim.agents.people_schedule.PeopleSchedule` plays the result.

Sources are run directories with a ``controller`` column: tables played on the app's Play page
(:mod:`coopsim.lab.table`) or imported from oTree (``coopsim otree import``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coopsim.lab.lab_run import HUMAN
from coopsim.record import expand_paths, is_run_dir, load_run
from coopsim.schema import ConfigError

POINTS = 11  # the others' share at 0, 0.1, ..., 1


def _endowments(run: Any) -> np.ndarray:
    world = run.scenario.get("world", {})
    n = int(world.get("num_agents", 0))
    given = world.get("endowments") or []
    return np.asarray(given if given else [float(world.get("endowment", 20.0))] * n, float)


def human_rounds(paths: list[Path]) -> pd.DataFrame:
    """One row per recorded human round: ``first`` (round 0), ``others`` (the others' mean
    share last round, NaN in round 0) and ``share`` (the person's own share)."""
    frames = []
    for path in paths:
        run = load_run(path)
        ep = run.episodes
        if "controller" not in ep.columns:
            continue
        e = _endowments(run)
        ep = ep.assign(share=ep["contribution"].to_numpy() / e[ep["agent"].to_numpy()])
        wide = ep.pivot_table(index=["episode", "round"], columns="agent", values="share")
        n = wide.shape[1]
        mean_others = (wide.sum(axis=1).to_numpy()[:, None] - wide.to_numpy()) / (n - 1)
        last = pd.DataFrame(mean_others, index=wide.index, columns=wide.columns)
        last = last.groupby(level="episode").shift(1)  # the others' mean, the round before
        others = last.stack().rename("others").reset_index()
        rows = ep[ep["controller"].astype(str) == HUMAN].merge(
            others, on=["episode", "round", "agent"], how="left"
        )
        rows["first"] = rows["round"] == 0
        frames.append(rows[["first", "others", "share"]])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def estimate_schedule(source: str | os.PathLike, where: str = "people") -> dict[str, Any]:
    """``{"initial", "schedule"}`` from the human seats of the run directories at ``source``
    (one run, or a folder of them); a :class:`ConfigError` naming ``where`` if none played."""
    path = Path(source)
    if is_run_dir(path):
        paths = [path]
    elif path.is_dir():
        paths = expand_paths(str(path / "*"), note=lambda _: None)
    else:
        paths = []
    if not paths:
        raise ConfigError(
            str(source), where, "is no run directory, nor a folder of them (tables people played)"
        )
    rows = human_rounds(paths)
    if rows.empty or not (~rows["first"]).any():
        raise ConfigError(
            str(source),
            where,
            "holds no rounds played by people (a Play table or `coopsim otree import` run)",
        )
    later = rows[~rows["first"]]
    grid = np.linspace(0.0, 1.0, POINTS)
    nearest = np.rint(later["others"].to_numpy() * (POINTS - 1)).astype(int)
    means = pd.Series(later["share"].to_numpy()).groupby(nearest).mean()
    schedule = np.interp(grid, grid[means.index.to_numpy()], means.to_numpy())
    first = rows.loc[rows["first"], "share"]
    initial = float(first.mean()) if len(first) else float(schedule[POINTS // 2])
    return {
        "initial": round(min(max(initial, 0.0), 1.0), 6),
        "schedule": [round(float(min(max(v, 0.0), 1.0)), 6) for v in schedule],
        "rounds": int(len(rows)),
        "runs": [p.name for p in paths],
    }


def people_seats(config: Any, index: int, world: Any) -> Any:
    """Member ``index`` of a population file (a ``people`` member) in every seat of ``world``:
    the schedule estimated from its tables, as a scripted population."""
    from coopsim.agents.people_schedule import PeopleSchedule
    from coopsim.agents.population import Population
    from coopsim.schema import build

    member = config.members[index]
    found = estimate_schedule(member.people, where=f"members[{index}].people")
    params = build(
        PeopleSchedule.Params, {"initial": found["initial"], "schedule": found["schedule"]}
    )
    n = world.spec.num_agents
    policy = PeopleSchedule(world.spec, params)
    return Population([(policy, list(range(n)))], n, len(world.spec.action_nvec))
