"""Subcommands on single runs: list, run, compare, report, bench, app."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

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
    from coopsim.runner import run_scenario
    from coopsim.staging import RunBusy

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
    """Rules (runs grouped by rule, intervals over training seeds) or runs one by one."""
    from coopsim.record import load_runs

    runs = load_runs(args.runs)
    if not runs:
        print("no run directories found", file=sys.stderr)
        return 2
    if getattr(args, "by", "rule") == "rule":
        from coopsim.analysis.rules import format_rules, rules_table

        try:
            print(format_rules(rules_table(runs)))
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        return 0
    print("mean [95% CI] over evaluation episodes")
    print(format_compare(runs))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the scenario report (HTML or PDF, by the output's suffix) for the given runs."""
    from coopsim.record import expand_paths
    from coopsim.report import build_report
    from coopsim.report.stress_section import is_stress

    stressed = [Path(p) for p in args.runs if is_stress(p)]  # `coopsim stress` folders
    rest = [p for p in args.runs if not is_stress(p)]
    paths = stressed + (expand_paths(rest, sweeps=True) if rest else [])
    if not paths:
        print("no run directories found", file=sys.stderr)
        return 2
    try:
        out = build_report(paths, args.output, rank_by=getattr(args, "rank_by", None))
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
    if args.which == "commons":
        from coopsim.bench import commons

        commons.main(quick=args.quick, device=args.device, threads=args.threads)
        return 0
    from coopsim.bench import throughput

    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    throughput.main(quick=args.quick, device=args.device)
    return 0


def app_command(port: int | None, headless: bool, address: str = "localhost") -> list[str]:
    """The ``streamlit run`` command line for the app; no usage statistics leave the machine.
    ``address``: where it listens (localhost: this machine only)."""
    from coopsim.app import APP_FILE

    cmd = [sys.executable, "-m", "streamlit", "run", str(APP_FILE)]
    cmd += ["--browser.gatherUsageStats", "false", "--server.headless", str(headless).lower()]
    cmd += ["--server.address", address, "--server.showEmailPrompt", "false"]
    if port is not None:
        cmd += ["--server.port", str(port)]
    return cmd


def cmd_app(args: argparse.Namespace) -> int:
    """Start the Streamlit mechanism designer (Ctrl-C stops it). A SIGTERM to this process
    stops the server too, so that stopping ``coopsim app`` never leaves Streamlit holding the
    port."""
    import signal
    import subprocess
    import threading

    env = dict(os.environ, COOPSIM_RUNS=str(args.runs))
    if args.max_jobs is not None:
        env["COOPSIM_MAX_JOBS"] = str(args.max_jobs)
    server = subprocess.Popen(app_command(args.port, args.headless, args.address), env=env)

    def stop(*_: object) -> None:
        server.terminate()
        # a server that does not end within 10 s (its event loop stuck) is killed
        timer = threading.Timer(10, server.kill)
        timer.daemon = True  # nothing to wait for once the server has ended
        timer.start()

    before = signal.signal(signal.SIGTERM, stop)
    try:
        return server.wait()
    except KeyboardInterrupt:  # the server, in our process group, got the Ctrl-C too
        server.wait()
        return 0
    finally:
        signal.signal(signal.SIGTERM, before)
