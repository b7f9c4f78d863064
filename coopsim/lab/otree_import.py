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

from coopsim import scenario as scenario_mod
from coopsim.lab.lab_run import HUMAN, scenario_policies, write_table_run
from coopsim.lab.otree_export import APP, APP_B
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
        raise ConfigError(str(csv), "oTree data export", "no such file")
    try:
        data = pd.read_csv(
            csv, dtype={"group.contributions": str, "group.net": str, "group.points": str}
        )
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise ConfigError(str(csv), "oTree data export", f"is not a CSV file ({err})") from None
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
    policies = scenario_policies(sc)
    seat_controller = [HUMAN if s in rule["human_seats"] else policies[s] for s in range(n)]
    tables = []
    for _, _, by_round, _ in groups:
        moved = [json.loads(v) for v in by_round["group.transfers"]]
        tables.append(
            [
                {
                    "contributions": json.loads(c),
                    "gross": json.loads(g),
                    "net": json.loads(v),
                    "transfers": t,
                }
                for c, g, v, t in zip(
                    by_round["group.contributions"],
                    by_round["group.gross"],
                    by_round["group.net"],
                    moved,
                )
            ]
        )
    participant = []
    for _, _, _, seats in groups:
        participant += [seats.get(a, "") for _ in range(rounds) for a in range(n)]
    columns: dict[str, Any] = {
        "participant": participant,
        "session": np.repeat([g[0] for g in groups], rounds * n),
    }
    if "group.points" in data.columns and data["group.points"].notna().any():
        # peer punishment: the points each seat gave each other seat, round by round
        given, received, rows_of = [], [], []
        for _, _, by_round, _ in groups:
            for matrix in (json.loads(v) for v in by_round["group.points"]):
                given += [sum(row) for row in matrix]
                received += [sum(row[j] for row in matrix) for j in range(n)]
                rows_of += [json.dumps(row) for row in matrix]
        columns |= {
            "punishment_given": given,
            "punishment_received": received,
            "punishment_points": rows_of,  # JSON: the points this seat gave each seat
        }
    extra: dict[str, Any] = {}
    if votes is not None:
        cast = _votes(Path(votes))
        columns["vote"] = [cast.get(code, "") for code in participant]
        mine = "A" if app == APP else "B"
        voters = {code for code in participant if code} & set(cast)  # human seats only
        counts = {k: sum(cast[v] == k for v in voters) for k in ("A", "B")}
        extra["votes"] = {
            "this_rule": mine,
            "counts": counts,
            "share_for_this_rule": counts[mine] / len(voters) if voters else None,
        }
    summary = {
        "source": "otree",
        "otree": {
            "csv": csv.name,
            "app": app,
            "sessions": sorted({g[0] for g in groups}),
            "human_seats": rule["human_seats"],
            "controllers": seat_controller,
        },
        **extra,
    }
    controllers = [[seat_controller] * rounds for _ in groups]
    return write_table_run(sc, tables, controllers, out, columns=columns, summary=summary)
