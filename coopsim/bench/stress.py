"""How long a stress test takes: one public-goods rule over the default suite.

The rule is ``public_goods_matching_planner`` at training seed 0 (its learned planner replayed
period by period); it meets its own learners (in-distribution), the learners of seeds 1 and 2
(two cross-play populations), the shipped default suite of scripted mixes for public goods
(``fgf2001`` and ``altruists_and_free_riders``) and one exploiter (one seat, 30 PPO
iterations), 32 episodes each, on the CPU with one torch thread. The three runs are trained
first (or read from ``--runs``); their training is timed apart and is not the stress test's.

Run: ``python bench/stress.py [--runs 'runs/public_goods_matching_planner-*'] [--quick]``.
"""

from __future__ import annotations

import glob
import os
import tempfile
import time
from pathlib import Path

import torch

from coopsim import scenario as sc
from coopsim.runner import run_scenario
from coopsim.stress.driver import Stress, StressConfig
from coopsim.stress.populations import default_suite

SCENARIO = "public_goods_matching_planner"
SEEDS = (0, 1, 2)
BUDGET_S = 180.0  # the stress test's target on a two-core CPU


def trained_runs(out: Path, given: str | None, quick: bool) -> tuple[list[Path], float]:
    """Three runs of the rule (seeds 0, 1, 2): found by ``given`` (a glob), or trained now."""
    if given:
        found = sorted(Path(p) for p in glob.glob(given))
        if len(found) < len(SEEDS):
            raise SystemExit(f"--runs {given!r} matched {len(found)} runs; three are needed")
        return found[: len(SEEDS)], 0.0
    start = time.perf_counter()
    runs = [
        run_scenario(sc.load(SCENARIO), seed=s, out=out, iterations=10 if quick else None)
        for s in SEEDS
    ]
    return runs, time.perf_counter() - start


def bench_stress(runs_glob: str | None = None, quick: bool = False) -> dict[str, float]:
    """Seconds per phase of the stress test, printed as a table; returns them."""
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        runs, training = trained_runs(Path(tmp) / "runs", runs_glob, quick)
        config = StressConfig(episodes=32, coalitions=(1,), exploiter_iterations=30)
        start = time.perf_counter()
        plan = Stress(
            [runs[0]], default_suite("public_goods"), Path(tmp) / "stress", config, runs[1:]
        )
        loaded = time.perf_counter() - start
        plan.run(progress=False)
        total = time.perf_counter() - start
    times = {"load the three runs": loaded}
    times.update({f"cell: {k.split(' ', 1)[1]}": v for k, v in plan.timings.items()})
    times["stress test in all"] = total
    load = os.getloadavg()[0]
    print(f"Stress test of {SCENARIO} s0 (CPU, 1 thread; load average {load:.1f})")
    if training:
        print(f"  (training the three runs first, not counted: {training:.1f} s)")
    for name, seconds in times.items():
        print(f"  {name:<40} {seconds:8.1f} s")
    verdict = "under" if total < BUDGET_S else "OVER"
    print(f"  {verdict} the {BUDGET_S:.0f} s target")
    return times
