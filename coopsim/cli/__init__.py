"""The ``coopsim`` command: list, run, compare, sweep, bench, demo."""

from __future__ import annotations

import argparse
import os
import sys

from coopsim.cli.args import non_negative_int, positive_int, seed_list
from coopsim.cli.lab import add_otree_parser
from coopsim.cli.runs import (
    cmd_app,
    cmd_bench,
    cmd_compare,
    cmd_list,
    cmd_report,
    cmd_run,
)
from coopsim.cli.stress import add_stress_parser
from coopsim.cli.studies import add_experiment_parser, add_sweep_parser, cmd_demo
from coopsim.docs_links import link_parsers
from coopsim.schema import ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coopsim", description=__doc__)
    parser.add_argument(
        "--threads",
        dest="global_threads",
        type=positive_int,
        default=None,
        help=f"torch threads per process (default: ${THREADS_ENV} or 1)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="show the ready scenarios")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("run", help="run a scenario and write a run directory")
    p.add_argument("scenario", help="scenario name (see `coopsim list`) or path to a TOML file")
    p.add_argument(
        "--seed", type=non_negative_int, default=None, help="seed >= 0 (default: the scenario's)"
    )
    p.add_argument("--out", default="runs", help="folder for run directories (default: runs)")
    p.add_argument(
        "--episodes",
        type=positive_int,
        default=None,
        help="evaluation episodes (default: the scenario's)",
    )
    p.add_argument("--device", default=None, help="cpu, cuda or auto (default: the scenario's)")
    p.add_argument(
        "--iterations",
        type=positive_int,
        default=None,
        help="training iterations of a learning scenario (default: its training.iterations)",
    )
    p.add_argument(
        "--fresh",
        action="store_true",
        help="discard an unfinished run of this scenario and seed instead of resuming it",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("compare", help="rules compared over training seeds, or runs side by side")
    p.add_argument("runs", nargs="+", help="run directories or glob patterns")
    p.add_argument(
        "--by",
        choices=("rule", "run"),
        default="rule",
        help="rule: runs grouped by rule, intervals over training seeds (default); "
        "run: one column per run, intervals over its evaluation episodes",
    )
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("report", help="write a scenario report (HTML or PDF) for runs")
    p.add_argument("runs", nargs="+", help="run directories or glob patterns")
    p.add_argument(
        "-o",
        "--output",
        default="report.html",
        help="report.html or report.pdf (default: %(default)s)",
    )
    p.add_argument(
        "--rank-by",
        default=None,
        help="the measure page one ranks the rules on where they share no objective "
        "(default: the planners' objective, else utilitarian welfare), e.g. net_welfare",
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("bench", help="throughput of the batched worlds, or of training")
    p.add_argument(
        "which",
        nargs="?",
        default="throughput",
        choices=("throughput", "training", "economy", "commons"),
        help="throughput: public-goods world steps vs a PettingZoo loop (default); "
        "training: PPO agent-steps/s by batch size and seconds to a learned result; "
        "economy: gather-trade-build world steps vs single worlds in a loop; "
        "commons: commons world steps vs single worlds in a loop, and PPO agent-steps/s",
    )
    p.add_argument("--training", action="store_true", help="the same as `coopsim bench training`")
    p.add_argument("--quick", action="store_true", help="fewer steps, for a quick look")
    p.add_argument("--device", default="auto", choices=("cpu", "cuda", "auto"))
    p.add_argument("--threads", type=positive_int, default=None, help="torch threads on the CPU")
    p.set_defaults(func=cmd_bench)

    add_experiment_parser(sub)
    add_sweep_parser(sub)
    add_stress_parser(sub)
    add_otree_parser(sub)

    from coopsim.experiments.demo import SEEDS

    p = sub.add_parser(
        "demo",
        help="PPO agents under four public-goods rules and a planner-designed one, several "
        "training seeds, compared",
    )
    p.add_argument("--out", default=None, help="folder for run directories (default: runs)")
    p.add_argument("--seeds", type=seed_list, default=list(SEEDS), help="default: 0,1,2")
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="processes training side by side, one torch thread each (default: one per core)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="one training iteration per rule, in runs/demo_quick unless --out: checks it runs",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("app", help="start the Streamlit mechanism designer on localhost")
    p.add_argument("--port", type=int, default=None, help="port (default: Streamlit's, 8501)")
    p.add_argument("--runs", default="runs", help="folder of run directories (default: runs)")
    p.add_argument("--headless", action="store_true", help="do not open a browser window")
    p.add_argument(
        "--address",
        default="localhost",
        help="address the server listens on (default: localhost, this machine only; 0.0.0.0 "
        "lets other machines open it, e.g. a classroom sharing a Play table's link)",
    )
    p.add_argument(
        "--max-jobs",
        type=positive_int,
        default=None,
        help="runs started from the app that may go on at once, each on one thread; the rest "
        "wait in a queue (default: one per CPU core)",
    )
    p.set_defaults(func=cmd_app)
    return link_parsers(parser)


THREADS_ENV = "COOPSIM_THREADS"


def default_threads(flag: int | None) -> int:
    """Torch threads for this process: ``--threads``, else ``$COOPSIM_THREADS``, else 1.

    One, because the worlds and networks are small: on a machine other work keeps busy, a
    second torch thread waits on the first at every one of the many small kernels, and B = 1024
    economy steps ran ~10x slower with 2 threads than with 1 while another process ran (worker
    processes, the app's and the regimes experiment's, run one thread each for the same reason).
    """
    text = os.environ.get(THREADS_ENV)
    if flag is None and text:
        try:
            flag = positive_int(text)
        except argparse.ArgumentTypeError as err:
            raise ConfigError(None, f"${THREADS_ENV}", str(err)) from None
    return flag or 1


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import torch

        torch.set_num_threads(default_threads(args.global_threads))
        return args.func(args)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
