"""PPO agents on the commons under each rule, over training seeds: docs/results.md's commons table.

Usage: ``python bench/commons_learning.py [--seeds 0,1,2] [--out runs/commons_learning]
[--workers 2] [--table-only]``. Each of ``commons`` (no rule), ``commons_quota``,
``commons_tax``, ``commons_sanctions`` and ``commons_planner`` is trained and evaluated at each
seed with the scenario file's own budget, as ``coopsim run <scenario> --seed <s> --out OUT``
does (a run already in OUT is kept, an interrupted one resumes); then Perolat et al.'s
measures are tabled as the mean over seeds with a 95% Student-t interval over seeds
(:mod:`coopsim.intervals`: the training seeds are the independent units).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from coopsim.intervals import t_interval
from coopsim.record import load_run

SCENARIOS = ("commons", "commons_quota", "commons_tax", "commons_sanctions", "commons_planner")
MEASURES = ("harvest_per_step", "sustainability", "harvest_equality", "peace", "final_stock")


def finished(out: Path, scenario: str, seed: int) -> Path | None:
    runs = sorted(out.glob(f"{scenario}-*-s{seed}"))
    return runs[-1] if runs and (runs[-1] / "summary.json").is_file() else None


def train(out: Path, scenario: str, seed: int) -> None:
    if finished(out, scenario, seed) is None:
        cmd = [sys.executable, "-m", "coopsim.cli", "run", scenario, "--seed", str(seed)]
        subprocess.run([*cmd, "--out", str(out)], check=True, stdout=subprocess.DEVNULL)


def table(out: Path, seeds: list[int]) -> pd.DataFrame:
    rows = []
    for scenario in SCENARIOS:
        runs = [finished(out, scenario, s) for s in seeds]
        runs = [load_run(r) for r in runs if r is not None]
        if not runs:
            continue
        row = {"scenario": scenario, "seeds": len(runs)}
        for m in MEASURES:
            ci = t_interval([r.summary["metrics"][m]["mean"] for r in runs])
            row[m] = f"{ci.mean:.3g} [{ci.ci_low:.3g}, {ci.ci_high:.3g}]"
        rows.append(row)
    return pd.DataFrame(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", default="runs/commons_learning")
    parser.add_argument("--workers", type=int, default=2, help="runs trained side by side")
    parser.add_argument("--table-only", action="store_true", help="train nothing")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out)
    if not args.table_only:
        # Scenario by scenario, so an interrupted batch leaves whole rows of the table.
        jobs = [(out, scenario, seed) for scenario in SCENARIOS for seed in seeds]
        with ThreadPoolExecutor(args.workers) as pool:
            list(pool.map(lambda job: train(*job), jobs))
    frame = table(out, seeds)
    print("| " + " | ".join(frame.columns) + " |")
    print("|" + "---|" * len(frame.columns))
    for values in frame.itertuples(index=False):
        print("| " + " | ".join(map(str, values)) + " |")
