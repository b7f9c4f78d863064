"""Subcommands that make many runs: experiment regimes, sweep, demo."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from coopsim.cli.args import field_value, positive_int, seed_list
from coopsim.schema import ConfigError


def cmd_experiment_regimes(args: argparse.Namespace) -> int:
    """Train the four tax regimes as a sweep of run directories and table them, or table
    ``--table DIR``."""
    import torch

    from coopsim.analysis.regimes import (
        format_details,
        format_experiment,
        format_roles,
        format_seed,
        has_roles,
        load_experiment,
        with_reference,
    )
    from coopsim.experiments import regimes

    if args.out is None:
        args.out = f"runs/{args.family}_regimes"
    if args.table:
        try:
            if args.reference:
                by_seed = with_reference(
                    load_experiment(args.table, partial=True), load_experiment(args.reference)
                )
                for seed, runs in by_seed.items():
                    print(f"=== training seed {seed} ===\n{format_details(runs)}\n")
            else:
                by_seed = load_experiment(args.table)
            print(format_experiment(by_seed))
        except ValueError as err:  # a seed unfinished, a regime failed: the message names it
            print(f"error: {err}", file=sys.stderr)
            return 2
        return 0
    if args.reference:
        print("error: --reference goes with --table", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    budget = (
        dataclasses.replace(regimes.QUICK, family=args.family)
        if args.quick
        else regimes.Budget(
            family=args.family,
            phase1=args.phase1,
            phase2=args.phase2,
            num_worlds=args.worlds,
            episode_length=args.episode_length,
            episodes=args.episodes,
            device=args.device,
            labour_cost=args.labour_cost,
        )
    )
    planner = dict(args.planner or [])
    chosen = args.regimes.split(",") if args.regimes else None
    print(regimes.describe(budget), flush=True)
    if planner:
        print("planner   " + ", ".join(f"{k} = {v!r}" for k, v in planner.items()), flush=True)
    try:
        regimes.run(
            budget,
            out=args.out,
            seeds=args.seeds,
            workers=args.workers,
            backend=args.backend,
            regimes=chosen,
            planner=planner,
        )
    except regimes.ExperimentFailed as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except ValueError as err:  # an unknown regime or planner field: said before anything trains
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=sys.stderr)
        return 130
    by_seed = load_experiment(args.out, partial=chosen is not None)
    ours = {seed: by_seed[seed] for seed in args.seeds}
    for seed, runs in ours.items():
        title = f"=== training seed {seed} ===\n" if len(ours) > 1 else ""
        print(f"\n{title}{format_seed(runs)}\n")
    if len(ours) > 1:
        print(format_experiment(ours))
    elif has_roles(ours):
        print(format_roles(ours))
    print(
        f"\nthe runs: {args.out}/seed_<s>/* (coopsim report, coopsim compare, load_runs); "
        f"the table: {args.out}/sweep.parquet (load_sweep)"
    )
    return 0


def add_experiment_parser(sub) -> None:
    from coopsim.experiments.regimes import DEFAULT, FAMILIES
    from coopsim.sweeps.backends import BACKENDS

    p = sub.add_parser("experiment", help="run an experiment: every arm and seed a run directory")
    which = p.add_subparsers(dest="experiment", required=True)
    p = which.add_parser(
        "regimes",
        help="the AI Economist's four tax regimes from a shared phase 1",
        description="Free market, US federal, Saez and AI planner in the gather-trade-build "
        "economy, as a sweep: phase 1 once per training seed, each regime's phase 2 forked "
        "from it and evaluated as a run directory under OUT/seed_<s>/, the table "
        "OUT/sweep.parquet, then the comparison tables. Run the same command again to "
        "resume. Defaults: the budget the family's scenario files state.",
    )
    p.add_argument("--seeds", type=seed_list, default=[DEFAULT.seed], help="e.g. 0,1,2")
    p.add_argument(
        "--family",
        default=DEFAULT.family,
        choices=FAMILIES,
        help="economy: the fast variant (200-step episodes); economy_paper: the AI Economist's "
        "own setting (default: %(default)s)",
    )
    files = "default: the planner scenario's"
    p.add_argument("--phase1", type=positive_int, help=f"shared iterations ({files})")
    p.add_argument("--phase2", type=positive_int, help=f"iterations per regime ({files})")
    p.add_argument("--worlds", type=positive_int, help=f"training B ({files})")
    p.add_argument("--episode-length", type=positive_int, help=f"steps ({files})")
    p.add_argument("--episodes", type=positive_int, help=f"evaluation episodes ({files})")
    p.add_argument("--labour-cost", type=float, default=None, help="override the labour cost")
    p.add_argument("--device", default=DEFAULT.device, choices=("cpu", "cuda"))
    p.add_argument("--quick", action="store_true", help="a tiny budget: checks it runs")
    p.add_argument(
        "--threads", type=int, default=1, help="torch threads (0: torch's default; default 1)"
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=2,
        help="local processes training side by side, one torch thread each (default: 2)",
    )
    p.add_argument(
        "--backend",
        default="local",
        choices=BACKENDS,
        help="local processes, or ray: a Ray task per run on the cluster ray.init() finds "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--regimes",
        metavar="LIST",
        help="train only these regimes, e.g. ai_planner or saez,ai_planner (default: all four)",
    )
    p.add_argument(
        "--planner",
        action="append",
        type=field_value,
        metavar="FIELD=VALUE",
        help="replace a [planner] field of the planner regime in its phase 2, in the budget's "
        "iterations (e.g. anneal_iterations=39, update_epochs=4); repeat for several. Phase 1 "
        "is unchanged: copy an experiment's seed_<s>/.phase1 into --out to compare a planner "
        "variant with its other regimes (--table OUT --reference THAT_OUT)",
    )
    p.add_argument("--out", help="default: runs/<family>_regimes")
    p.add_argument("--table", metavar="DIR", help="train nothing: table the runs under DIR")
    p.add_argument(
        "--reference",
        metavar="DIR",
        help="with --table: the regimes DIR lacks are taken from the experiment in this folder "
        "(trained from the same phase 1s and evaluated on the same worlds)",
    )
    p.set_defaults(func=cmd_experiment_regimes)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run every cell x seed of a sweep as run directories and write ``OUT/sweep.parquet``.

    Run again, the same command skips finished cells and resumes interrupted learning cells.
    """
    from coopsim.paths import slug
    from coopsim.staging import RunBusy
    from coopsim.sweeps import SweepSpec, parse_set, run_sweep
    from coopsim.sweeps.spec import load_base

    scenario, spec = load_base(args.scenario)
    spec = spec or SweepSpec()
    for text in args.set or []:
        field, values = parse_set(text)
        spec.grid[field] = values
    if args.seeds is not None:
        spec.seeds = args.seeds
    out = args.out or f"runs/sweep_{slug(scenario.name)}"
    try:
        result = run_sweep(
            scenario,
            spec,
            out,
            backend=args.backend,
            workers=args.workers,
            episodes=args.episodes,
            progress_bar=True,
            batch=not args.no_batch,
        )
    except RunBusy as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=sys.stderr)
        return 130
    shown = [*spec.fields, "seed", "objective", "objective_ci_low", "objective_ci_high"]
    shown += ["status", "wall_s"]
    table = result.table[[c for c in shown if c in result.table.columns]]
    print(table.to_string(index=False))
    if result.failed:
        failed = result.table[result.table["status"] != "ok"]
        for _, row in failed.iterrows():
            print(f"failed: {row['cell']} seed {row['seed']}: {row['error']}", file=sys.stderr)
        print("run the same command again to retry the failed cells", file=sys.stderr)
    print(result.folder / "sweep.parquet")
    return 1 if result.failed else 0


def add_sweep_parser(sub) -> None:
    from coopsim.sweeps.backends import BACKENDS
    from coopsim.sweeps.spec import parse_seeds

    def seeds(text: str) -> list[int]:
        try:
            return parse_seeds(text)
        except ConfigError as err:
            raise argparse.ArgumentTypeError(err.problem) from None

    p = sub.add_parser(
        "sweep",
        help="run a scenario over a grid of field values x seeds; one run directory each",
        description="Every combination of the --set values (a full grid), each at every seed, "
        "as ordinary run directories under OUT/<cell>/, and the tidy table OUT/sweep.parquet. "
        "A scenario file may hold a [sweep] table (grid, or random samples). Run the same "
        "command again to resume a killed sweep.",
    )
    p.add_argument("scenario", help="scenario name or TOML file (which may hold a [sweep] table)")
    p.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUES",
        help="e.g. mechanisms.0.rate=0,0.5,1 or world.multiplier=1.2,1.6; repeat for a grid",
    )
    p.add_argument("--seeds", type=seeds, default=None, help="a count K (seeds 0..K-1) or 0,2,5")
    p.add_argument("--out", default=None, help="sweep folder (default: runs/sweep_<scenario>)")
    p.add_argument("--backend", default="local", choices=BACKENDS, help="default: %(default)s")
    p.add_argument(
        "--workers", type=positive_int, default=1, help="local processes (one torch thread each)"
    )
    p.add_argument(
        "--episodes", type=positive_int, default=None, help="evaluation episodes per run"
    )
    p.add_argument(
        "--no-batch",
        action="store_true",
        help="run every cell x seed on its own, even cells that differ only in mechanism "
        "controls (by default those are evaluated as one batched world)",
    )
    p.set_defaults(func=cmd_sweep)


def cmd_demo(args: argparse.Namespace) -> int:
    """Train learning agents under public-goods rules over several seeds; say what changed.

    Each rule's line is printed as soon as its last seed finishes, so results are on screen
    while the other rules still train; the full table and the takeaway follow at the end.
    """
    from tqdm import tqdm

    from coopsim.analysis.demo_findings import (
        arm_line,
        by_rule,
        format_table,
        load_findings,
        takeaway,
    )
    from coopsim.experiments import demo

    workers = args.workers or demo.default_workers()
    arms = demo.quick_arms() if args.quick else demo.ARMS
    if args.out is None:  # a tiny budget's runs never stand where the real demo's resume from
        args.out = "runs/demo_quick" if args.quick else "runs"
    total = len(arms) * len(args.seeds)
    print(
        f"PPO agents learn the public-goods game under {len(arms)} rules "
        f"({', '.join(arms)}), {len(args.seeds)} training seeds each: {total} runs, "
        f"{workers} at a time"
    )
    finished: dict[str, list[Path]] = {label: [] for label in arms}
    started = time.monotonic()

    def on_run(bar, label: str, seed: int, path: Path) -> None:
        bar.update()
        finished[label].append(path)
        if len(finished[label]) == len(args.seeds):
            bar.write(arm_line(label, finished[label]))

    try:
        with tqdm(total=total, unit="run", desc="training") as bar:
            paths = demo.run(
                out=args.out,
                seeds=tuple(args.seeds),
                workers=workers,
                on_run=lambda *a: on_run(bar, *a),
                arms=arms,
            )
    except KeyboardInterrupt:
        print(
            "\ninterrupted: run `coopsim demo` again to go on from each run's last checkpoint",
            file=sys.stderr,
        )
        return 130
    elapsed = time.monotonic() - started  # what the reader waited for: spawn, train, evaluate
    findings = load_findings(by_rule(paths))  # named as coopsim compare and the brief name them
    print(f"{total} runs trained and evaluated in {elapsed:.0f} s, {workers} at a time")
    print()
    print("mean [95% CI] over training seeds")
    print(format_table(findings))
    print()
    for line in takeaway(findings):
        print(f"- {line}")
    if args.quick:
        print(
            "\n(--quick: one training iteration per rule, to try the commands; these "
            "numbers show the wiring, not what the rules do. `coopsim demo` trains them.)"
        )
    names = " ".join(f"{args.out}/{arm.scenario}-*" for arm in arms.values())
    print(f"\nthe runs: coopsim compare {names}")
    return 0
