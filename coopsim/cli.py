"""The ``coopsim`` command: list, run, compare, sweep, bench, demo."""

from __future__ import annotations

import argparse
import os
import sys

from coopsim.schema import ConfigError


def cmd_list(args: argparse.Namespace) -> int:
    """Each ready scenario, whether its agents learn or follow scripts, and what it is."""
    from coopsim import scenario as sc

    rows = []
    for name, path in sc.list_scenarios().items():
        try:
            loaded = sc.load(path)
            kind, desc = ("learning" if loaded.learns else "scripted"), loaded.description
        except ConfigError as err:
            kind, desc = "", f"(invalid: {err})"
        rows.append((name, kind, desc))
    width = max((len(n) for n, _, _ in rows), default=0)
    for name, kind, desc in rows:
        print(f"{name:<{width}}  {kind:<8}  {desc}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Train (when the scenario learns), evaluate, and print the run directory last.

    A learning run interrupted mid-way resumes from its last checkpoint when the same command
    is run again (see :mod:`coopsim.runner`); its progress bar goes to stderr.
    """
    from coopsim import scenario as sc
    from coopsim.run_store import RunBusy
    from coopsim.runner import run_scenario

    scenario = sc.load(args.scenario)
    try:
        path = run_scenario(
            scenario,
            seed=args.seed,
            out=args.out,
            episodes=args.episodes,
            device=args.device,
            iterations=args.iterations,
            fresh=args.fresh,
            progress_bar=True,
        )
    except RunBusy as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if scenario.learns:
            print(
                "\ninterrupted: run the same command again to resume from the last checkpoint",
                file=sys.stderr,
            )
        return 130
    print(path)
    return 0


def format_compare(runs) -> str:
    """Side-by-side table: one column per run, one row per measure of the registry that the
    runs have, 'mean [lo, hi]' over evaluation episodes; zero-width intervals are marked and
    the notes below the table say why."""
    import pandas as pd

    from coopsim.analysis import tables

    # Columns are named by scenario; runs of one scenario (other seeds, say) would overwrite
    # each other's column, so then fall back to directory names, then to full paths.
    names = [run.summary.get("scenario", run.name) for run in runs]
    if len(set(names)) < len(names):
        names = [run.name for run in runs]
    if len(set(names)) < len(names):
        names = [str(run.path) for run in runs]
    table = tables.compare(runs)
    frame = tables.format_compare(table)
    frame.columns = names
    with pd.option_context("display.max_columns", None, "display.width", 250):
        return "\n".join([frame.to_string(), *tables.zero_width_notes(table)])


def cmd_compare(args: argparse.Namespace) -> int:
    from coopsim.record import load_runs

    runs = load_runs(args.runs)
    if not runs:
        print("no run directories found", file=sys.stderr)
        return 2
    print("mean [95% CI] over evaluation episodes")
    print(format_compare(runs))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the scenario report (HTML or PDF, by the output's suffix) for the given runs."""
    from coopsim.record import expand_paths
    from coopsim.report import build_report

    paths = expand_paths(args.runs, sweeps=True)
    if not paths:
        print("no run directories found", file=sys.stderr)
        return 2
    try:
        out = build_report(paths, args.output)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(out)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Print a benchmark's tables: the worlds' throughput (default) or training's."""
    if args.training or args.which == "training":
        from coopsim.bench import training

        training.main(quick=args.quick, device=args.device, threads=args.threads)
        return 0
    if args.which == "economy":
        from coopsim.bench import economy

        economy.main(quick=args.quick, device=args.device, threads=args.threads)
        return 0
    from coopsim.bench import throughput

    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    throughput.main(quick=args.quick, device=args.device)
    return 0


def cmd_experiment_regimes(args: argparse.Namespace) -> int:
    """Train the four tax regimes as run directories and table them, or table ``--table DIR``."""
    import torch

    from coopsim.analysis.regimes import (
        format_experiment,
        format_seed,
        format_sweep,
        load_experiment,
        sweep_values,
    )
    from coopsim.experiments import regimes
    from coopsim.record import load_run
    from coopsim.run_store import RunBusy

    if args.table:
        try:
            print(format_experiment(load_experiment(args.table)))
        except ValueError as err:  # a seed unfinished, a regime twice: the message names it
            print(f"error: {err}", file=sys.stderr)
            return 2
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    budget = (
        regimes.QUICK
        if args.quick
        else regimes.Budget(
            phase1=args.phase1,
            phase2=args.phase2,
            num_worlds=args.worlds,
            episode_length=args.episode_length,
            episodes=args.episodes,
            device=args.device,
            labour_cost=args.labour_cost,
        )
    )
    print(regimes.describe(budget))
    by_seed = {}

    def show(seed: int, paths: dict) -> None:
        by_seed[seed] = {label: load_run(path) for label, path in paths.items()}
        print(f"\n{format_seed(by_seed[seed])}\n", flush=True)

    try:
        regimes.run(budget, out=args.out, seeds=args.seeds, workers=args.workers, on_seed=show)
        if len(by_seed) > 1:
            print(format_sweep(sweep_values(by_seed)))
        print(f"\nthe runs: {args.out}/seed_<s>/* (coopsim report, coopsim compare, load_runs)")
    except RunBusy as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=sys.stderr)
        return 130
    return 0


def seed_list(text: str) -> list[int]:
    """argparse type for ``0,1,2``: distinct training seeds >= 0."""
    try:
        seeds = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected seeds like 0,1,2") from None
    if min(seeds) < 0 or len(set(seeds)) < len(seeds):
        raise argparse.ArgumentTypeError(f"got {text!r}, need distinct seeds >= 0")
    return seeds


def add_experiment_parser(sub) -> None:
    from coopsim.experiments.regimes import DEFAULT

    p = sub.add_parser("experiment", help="run an experiment: every arm and seed a run directory")
    which = p.add_subparsers(dest="experiment", required=True)
    p = which.add_parser(
        "regimes",
        help="the AI Economist's four tax regimes from a shared phase 1",
        description="Free market, US federal, Saez and AI planner in the gather-trade-build "
        "economy: phase 1 once per training seed, each regime's phase 2 forked from it and "
        "evaluated as a run directory under OUT/seed_<s>/, then the comparison tables. Run "
        "again to resume. Defaults: the budget the scenario files state.",
    )
    p.add_argument("--seeds", type=seed_list, default=[DEFAULT.seed], help="e.g. 0,1,2")
    p.add_argument("--phase1", type=positive_int, default=DEFAULT.phase1, help="shared iterations")
    p.add_argument("--phase2", type=positive_int, default=DEFAULT.phase2, help="per regime")
    p.add_argument("--worlds", type=positive_int, default=DEFAULT.num_worlds, help="training B")
    p.add_argument("--episode-length", type=positive_int, default=DEFAULT.episode_length)
    p.add_argument("--episodes", type=positive_int, default=DEFAULT.episodes, help="evaluation")
    p.add_argument("--labour-cost", type=float, default=None, help="override the labour cost")
    p.add_argument("--device", default=DEFAULT.device, choices=("cpu", "cuda"))
    p.add_argument("--quick", action="store_true", help="a tiny budget: checks it runs")
    p.add_argument(
        "--threads", type=int, default=1, help="torch threads (0: torch's default; default 1)"
    )
    p.add_argument(
        "--workers", type=positive_int, default=2, help="processes training regimes side by side"
    )
    p.add_argument("--out", default="runs/economy_regimes", help="default: %(default)s")
    p.add_argument("--table", metavar="DIR", help="train nothing: table the runs under DIR")
    p.set_defaults(func=cmd_experiment_regimes)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run every cell x seed of a sweep as run directories and write ``OUT/sweep.parquet``.

    Run again, the same command skips finished cells and resumes interrupted learning cells.
    """
    from coopsim.paths import slug
    from coopsim.run_store import RunBusy
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
    """Train learning agents under four public-goods rules over several seeds; say what changed."""
    from tqdm import tqdm

    from coopsim.analysis.demo_findings import format_table, load_findings, takeaway
    from coopsim.experiments import demo

    total = len(demo.ARMS) * len(args.seeds)
    print(
        f"PPO agents learn the public-goods game under {len(demo.ARMS)} rules "
        f"({', '.join(demo.ARMS)}), {len(args.seeds)} training seeds each: {total} runs, "
        f"{args.workers} at a time"
    )
    try:
        with tqdm(total=total, unit="run", desc="training") as bar:
            paths = demo.run(
                out=args.out,
                seeds=tuple(args.seeds),
                workers=args.workers,
                on_run=lambda *_: bar.update(),
            )
    except KeyboardInterrupt:
        print(
            "\ninterrupted: run `coopsim demo` again to go on from each run's last checkpoint",
            file=sys.stderr,
        )
        return 130
    arms = load_findings(paths)
    print()
    print("mean [95% CI] over training seeds")
    print(format_table(arms))
    print()
    for line in takeaway(arms):
        print(f"- {line}")
    names = " ".join(f"{args.out}/{name}-*" for name in demo.ARMS.values())
    print(f"\nthe runs: coopsim compare {names}")
    return 0


def app_command(port: int | None, headless: bool) -> list[str]:
    """The ``streamlit run`` command line for the app; no usage statistics leave the machine."""
    from coopsim.app import APP_FILE

    cmd = [sys.executable, "-m", "streamlit", "run", str(APP_FILE)]
    cmd += ["--browser.gatherUsageStats", "false", "--server.headless", str(headless).lower()]
    cmd += ["--server.address", "localhost", "--server.showEmailPrompt", "false"]
    if port is not None:
        cmd += ["--server.port", str(port)]
    return cmd


def cmd_app(args: argparse.Namespace) -> int:
    """Start the Streamlit mechanism designer on localhost (Ctrl-C stops it)."""
    import os
    import subprocess

    env = dict(os.environ, COOPSIM_RUNS=str(args.runs))
    if args.max_jobs is not None:
        env["COOPSIM_MAX_JOBS"] = str(args.max_jobs)
    try:
        return subprocess.call(app_command(args.port, args.headless), env=env)
    except KeyboardInterrupt:
        return 0


def positive_int(text: str) -> int:
    """argparse type for counts: an integer >= 1, refused with a usage message otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected an integer >= 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"got {value}, must be >= 1")
    return value


def non_negative_int(text: str) -> int:
    """argparse type for seeds: an integer >= 0, refused with a usage message otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected an integer >= 0") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"got {value}, must be >= 0")
    return value


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

    p = sub.add_parser("compare", help="side-by-side table of run summaries")
    p.add_argument("runs", nargs="+", help="run directories or glob patterns")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("report", help="write a scenario report (HTML or PDF) for runs")
    p.add_argument("runs", nargs="+", help="run directories or glob patterns")
    p.add_argument(
        "-o",
        "--output",
        default="report.html",
        help="report.html or report.pdf (default: %(default)s)",
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("bench", help="throughput of the batched worlds, or of training")
    p.add_argument(
        "which",
        nargs="?",
        default="throughput",
        choices=("throughput", "training", "economy"),
        help="throughput: public-goods world steps vs a PettingZoo loop (default); "
        "training: PPO agent-steps/s by batch size and seconds to a learned result; "
        "economy: gather-trade-build world steps vs single worlds in a loop",
    )
    p.add_argument("--training", action="store_true", help="the same as `coopsim bench training`")
    p.add_argument("--quick", action="store_true", help="fewer steps, for a quick look")
    p.add_argument("--device", default="auto", choices=("cpu", "cuda", "auto"))
    p.add_argument("--threads", type=positive_int, default=None, help="torch threads on the CPU")
    p.set_defaults(func=cmd_bench)

    add_experiment_parser(sub)
    add_sweep_parser(sub)

    from coopsim.experiments.demo import SEEDS

    p = sub.add_parser(
        "demo",
        help="PPO agents under four public-goods rules, several training seeds, compared",
    )
    p.add_argument("--out", default="runs", help="folder for run directories (default: runs)")
    p.add_argument("--seeds", type=seed_list, default=list(SEEDS), help="default: 0,1,2")
    p.add_argument(
        "--workers",
        type=positive_int,
        default=2,
        help="processes training side by side, one torch thread each (default: 2)",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("app", help="start the Streamlit mechanism designer on localhost")
    p.add_argument("--port", type=int, default=None, help="port (default: Streamlit's, 8501)")
    p.add_argument("--runs", default="runs", help="folder of run directories (default: runs)")
    p.add_argument("--headless", action="store_true", help="do not open a browser window")
    p.add_argument(
        "--max-jobs",
        type=positive_int,
        default=None,
        help="runs started from the app that may go on at once, each on one thread; the rest "
        "wait in a queue (default: one per CPU core)",
    )
    p.set_defaults(func=cmd_app)
    return parser


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
