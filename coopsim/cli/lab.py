"""`coopsim otree export | import`: take a scenario's table to the lab, and its data back."""

from __future__ import annotations

import argparse


def seat_list(text: str) -> list[int]:
    """argparse type for ``1,2``: the seats (numbered from 1) that participants take."""
    try:
        seats = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected seats like 1,2") from None
    if min(seats) < 1 or len(set(seats)) < len(seats):
        raise argparse.ArgumentTypeError(f"got {text!r}, need distinct seats from 1")
    return [s - 1 for s in seats]


def cmd_otree_export(args: argparse.Namespace) -> int:
    from coopsim.lab.otree_export import APP, export

    out = export(args.source, args.out, args.seats, vote=args.vote, planner=args.planner)
    print(f"wrote the oTree project {out} (app {APP}); try it: cd {out} && otree devserver")
    return 0


def cmd_otree_import(args: argparse.Namespace) -> int:
    from coopsim.lab.otree_import import import_csv

    print(import_csv(args.csv, args.project, args.out, votes=args.votes))
    return 0


def add_otree_parser(sub) -> None:
    p = sub.add_parser("otree", help="export a public-goods scenario to oTree, import its data")
    osub = p.add_subparsers(dest="otree_command", required=True)
    e = osub.add_parser("export", help="write an oTree project playing a scenario's rule")
    e.add_argument("source", help="scenario name or TOML file, or a run directory (PPO seats)")
    e.add_argument("--out", required=True, help="new folder for the oTree project")
    e.add_argument(
        "--seats",
        type=seat_list,
        default=[0],
        help="seats participants take, from 1 (default: 1); agents play the rest",
    )
    e.add_argument(
        "--vote",
        default=None,
        metavar="OTHER",
        help="a second scenario or run: participants play under both rules, then vote",
    )
    e.add_argument(
        "--planner",
        choices=("fixed", "replay"),
        default="fixed",
        help="a planner run's rule: fixed at the mean it played (default), or replayed round "
        "by round as its evaluation played it",
    )
    e.set_defaults(func=cmd_otree_export)
    i = osub.add_parser("import", help="turn oTree's data export into a run directory")
    i.add_argument(
        "csv",
        help="a table app's CSV from oTree's Data page (coopsim_table.csv, coopsim_table_b.csv)",
    )
    i.add_argument("--project", required=True, help="the folder `coopsim otree export` wrote")
    i.add_argument("--out", default="runs", help="folder for run directories (default: runs)")
    i.add_argument("--votes", default=None, help="the vote app's CSV (coopsim_vote.csv)")
    i.set_defaults(func=cmd_otree_import)
