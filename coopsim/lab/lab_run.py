"""Tables that people played, as run directories: one writer for oTree's data and the app's tables.

Why one writer: a table played in the lab (``coopsim otree import``) and one played on the app's
Play page must load alike, measure alike and sit beside simulated runs in ``rules_table``,
Compare and reports. Each table is an episode; each round's contributions and payoffs (every
seat's, the agents' included) become rows of ``episodes.parquet``, with a ``controller`` column
(``human`` for a person's seat in that round, else the policy that played it). Measures and their
intervals are computed as for any evaluation; the directory is staged and renamed into place by
:class:`~coopsim.record.RunWriter`, whose files are written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from coopsim import builder
from coopsim.evaluate import _metric_table, episode_metrics, summarise, tidy_records
from coopsim.record import RunWriter, new_run_name, run_metadata

#: The value of ``controller`` for a seat a person played that round.
HUMAN = "human"


def scenario_policies(sc: Any) -> list[str]:
    """The scenario's policy name for each seat, in seat order."""
    out: list[str] = []
    for g in sc.population:
        out += [g.policy] * g.count
    return out


def write_table_run(
    sc: Any,
    tables: Sequence[Sequence[dict[str, Any]]],
    controllers: Sequence[Sequence[Sequence[str]]],
    out: str | os.PathLike,
    *,
    columns: dict[str, Sequence[Any]] | None = None,
    summary: dict[str, Any] | None = None,
    tag: str = "lab",
    policies: Sequence[str] | None = None,
) -> Path:
    """Write one run directory into ``out`` holding ``tables`` (one episode each) and return it.

    ``tables[b][r]`` is round ``r`` of table ``b``: per seat ``contributions``, ``gross`` and
    ``net``, and ``transfers`` ({mechanism label: per seat}); ``controllers[b][r][seat]`` who
    played the seat. ``columns`` adds per-row columns (rows run table, round, seat);
    ``summary`` adds entries to ``summary.json``; ``policies`` names each seat's agent where
    they are not the scenario's own (a population drawn for the table).
    """
    labels = builder.make_pipeline(sc, 1, torch.device("cpu")).labels
    records: dict[str, list[Any]] = {"contribution": [], "gross": [], "net": []}
    records.update({f"transfer_{label}": [] for label in labels})
    for rounds in tables:
        records["contribution"].append([r["contributions"] for r in rounds])
        records["gross"].append([r["gross"] for r in rounds])
        records["net"].append([r["net"] for r in rounds])
        for label in labels:
            records[f"transfer_{label}"].append([r["transfers"][label] for r in rounds])
    # [B, R, N] -> [R, B, N], as rollouts record them
    tensors = {
        k: torch.tensor(np.asarray(v, dtype=np.float64)).transpose(0, 1) for k, v in records.items()
    }
    world = builder.make_world(sc, 1)
    try:
        optimum = world.social_optimum()
    except NotImplementedError:
        optimum = None
    table = _metric_table(episode_metrics(tensors, world.endowment, optimum, sc.objective))
    frame = tidy_records(tensors, list(policies) if policies else scenario_policies(sc))
    frame["controller"] = [who for t in controllers for r in t for who in r]
    frame["controller"] = frame["controller"].astype("category")
    for name, values in (columns or {}).items():
        frame[name] = list(values)
    meta = run_metadata(
        sc,
        sc.evaluation.seed,
        builder.describe_pipeline(builder.make_pipeline(sc, 1, torch.device("cpu"))),
        episodes=len(tables),
        **(summary or {}),
    )
    meta["metrics"] = summarise(table)
    with RunWriter(out, new_run_name(f"{sc.name}-{tag}", sc.evaluation.seed)) as writer:
        writer.write_text("scenario.toml", sc.to_toml())
        writer.write_frame("episodes.parquet", frame)
        writer.write_frame("episode_metrics.parquet", table)
        writer.write_json("summary.json", meta)
    return writer.final
