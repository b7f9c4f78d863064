"""`coopsim otree import`: an exported table's oTree data as a coopsim run directory.

Each oTree group is one episode; each round's contributions and payoffs (every seat's, the
agents' included, as the app recorded them) become rows of ``episodes.parquet`` with a
``controller`` column (``human`` for a participant's seat, else the policy that played it) and
the participant's code. Measures and their intervals are computed as for any evaluation, so
the run loads with ``load_run`` and sits beside simulated runs in compare and reports.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from coopsim import builder
from coopsim import scenario as scenario_mod
from coopsim.evaluate import _metric_table, episode_metrics, summarise, tidy_records
from coopsim.lab.otree_export import APP, APP_B
from coopsim.record import RunWriter, new_run_name, run_metadata
from coopsim.schema import ConfigError

NEEDED = (
    "participant.code",
    "player.seat",
    "group.id_in_subsession",
    "group.contributions",
    "group.net",
    "group.gross",
    "group.transfers",
    "subsession.round_number",
    "session.code",
)


def _read(csv: Path) -> pd.DataFrame:
    if not csv.is_file():
        raise ConfigError(str(csv), "EXPORT.csv", "no such file")
    try:
        data = pd.read_csv(csv, dtype={"group.contributions": str, "group.net": str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise ConfigError(str(csv), "EXPORT.csv", f"is not a CSV file ({err})") from None
    missing = [c for c in NEEDED if c not in data.columns]
    if missing:
        raise ConfigError(
            str(csv),
            missing[0],
            f"column missing: export the app's own data ({APP}.csv, "
            "per-app download on oTree's Data page), not the wide all-apps table",
        )
    return data


def _votes(votes: Path) -> dict[str, str]:
    """participant code -> "A" or "B", from the vote app's CSV."""
    if not votes.is_file():
        raise ConfigError(str(votes), "--votes", "no such file")
    data = pd.read_csv(votes, dtype=str)
    for column in ("participant.code", "player.vote"):
        if column not in data.columns:
            raise ConfigError(str(votes), column, "column missing: give coopsim_vote.csv")
    data = data[data["player.vote"].isin(["A", "B"])]
    return dict(zip(data["participant.code"], data["player.vote"]))


def import_csv(
    csv: str | os.PathLike,
    project: str | os.PathLike,
    out: str | os.PathLike,
    votes: str | os.PathLike | None = None,
) -> Path:
    """Write one run directory into ``out`` from oTree's data ``csv`` of ``project``.

    The table is ``coopsim_table_b`` (the second rule of a vote) when the CSV is named after
    it, else ``coopsim_table``. With ``votes`` (the vote app's CSV) each participant's vote
    is a column and the counts go into the summary.
    """
    csv, project = Path(csv), Path(project)
    app = APP_B if csv.stem == APP_B else APP
    rule_file = project / app / "rule.json"
    if not rule_file.is_file():
        raise ConfigError(
            str(project),
            "--project",
            f"holds no {app}/rule.json: give the folder `coopsim otree export` wrote",
        )
    rule = json.loads(rule_file.read_text())
    sc = scenario_mod.load(project / app / "scenario.toml")
    data = _read(csv)
    n, rounds = rule["num_agents"], rule["rounds"]
    complete = data[data["group.net"].notna() & (data["group.net"] != "")]
    groups = []
    for (session, group), rows in complete.groupby(["session.code", "group.id_in_subsession"]):
        by_round = rows.drop_duplicates("subsession.round_number").set_index(
            "subsession.round_number"
        )
        if sorted(by_round.index) != list(range(1, rounds + 1)):
            continue  # a table that did not finish all rounds is left out
        seats = rows.drop_duplicates("player.seat").set_index("player.seat")["participant.code"]
        groups.append((session, group, by_round.sort_index(), seats.to_dict()))
    if not groups:
        raise ConfigError(str(csv), "rows", f"no group finished all {rounds} rounds")
    labels = [m["label"] for m in rule["mechanisms"]]
    records: dict[str, list[Any]] = {"contribution": [], "gross": [], "net": []}
    records.update({f"transfer_{label}": [] for label in labels})
    for _, _, by_round, _ in groups:
        for key in ("contribution", "gross", "net"):
            column = "group.contributions" if key == "contribution" else f"group.{key}"
            records[key].append([json.loads(v) for v in by_round[column]])
        moved = [json.loads(v) for v in by_round["group.transfers"]]
        for label in labels:
            records[f"transfer_{label}"].append([t[label] for t in moved])
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
    scenario_policy = _scenario_policies(sc)
    frame = tidy_records(tensors, scenario_policy)
    frame["controller"] = frame["agent"].map(
        lambda a: "human" if a in rule["human_seats"] else scenario_policy[a]
    )
    participant = []
    for _, _, _, seats in groups:
        participant += [seats.get(a, "") for _ in range(rounds) for a in range(n)]
    frame["participant"] = participant
    frame["session"] = np.repeat([g[0] for g in groups], rounds * n)
    frame["controller"] = frame["controller"].astype("category")
    extra: dict[str, Any] = {}
    if votes is not None:
        cast = _votes(Path(votes))
        frame["vote"] = frame["participant"].map(lambda code: cast.get(code, ""))
        mine = "A" if app == APP else "B"
        voters = set(frame.loc[frame["controller"] == "human", "participant"]) & set(cast)
        counts = {k: sum(cast[v] == k for v in voters) for k in ("A", "B")}
        extra["votes"] = {
            "this_rule": mine,
            "counts": counts,
            "share_for_this_rule": counts[mine] / len(voters) if voters else None,
        }
    pipeline = builder.make_pipeline(sc, 1, torch.device("cpu"))
    summary = run_metadata(
        sc,
        sc.evaluation.seed,
        builder.describe_pipeline(pipeline),
        episodes=len(groups),
        source="otree",
        otree={
            "csv": csv.name,
            "app": app,
            "sessions": sorted({g[0] for g in groups}),
            "human_seats": rule["human_seats"],
            "controllers": [
                "human" if s in rule["human_seats"] else scenario_policy[s] for s in range(n)
            ],
        },
    )
    summary.update(extra)
    summary["metrics"] = summarise(table)
    with RunWriter(out, new_run_name(f"{sc.name}-lab", sc.evaluation.seed)) as writer:
        writer.write_text("scenario.toml", sc.to_toml())
        writer.write_frame("episodes.parquet", frame)
        writer.write_frame("episode_metrics.parquet", table)
        writer.write_json("summary.json", summary)
    return writer.final


def _scenario_policies(sc: Any) -> list[str]:
    out: list[str] = []
    for g in sc.population:
        out += [g.policy] * g.count
    return out
