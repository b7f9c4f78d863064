"""How long a stress test takes: one rule over its world's default suite.

For each world (:data:`BENCHES`) one rule at training seed 0 (a learned planner replayed period
by period) meets its own learners (in-distribution), the learners of its training seeds 1 and
2 (two cross-play populations), the learners trained under the world's other rules at those
seeds (cross-rule), the shipped default suite of population files for the world and one
exploiter (one seat, 30 PPO iterations), 32 episodes each, on the CPU with one torch thread:

* ``public_goods``: ``public_goods_matching_planner`` (no other rule; scripted mixes
  ``fgf2001`` and ``altruists_and_free_riders``); target 3 minutes;
* ``economy``: ``economy_ai_planner`` against the learners of the free market, US federal and
  Saez regimes too (``economy_gather_build``); target 30 minutes;
* ``commons``: ``commons_quota`` against ``commons_tax``'s learners too (``commons_greedy``,
  ``commons_greedy_and_restrained``).

Every population of the rule's play is one block of one batch of worlds; the exploiter trains
apart. The runs are trained first (or read from ``--runs``, a glob of run directories: the
economy's from ``coopsim experiment regimes``, e.g. ``'runs/economy_regimes/seed_*/*'``);
their training is timed apart and is not the stress test's.

Run: ``python bench/stress.py [--world economy] [--runs GLOB] [--quick]``.
"""

from __future__ import annotations

import glob
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from coopsim import scenario as sc
from coopsim.runner import run_scenario
from coopsim.stress.driver import Stress, StressConfig
from coopsim.stress.populations import default_suite

SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class Bench:
    """One world's benchmark: the rule stressed, the rules whose learners it meets, a target."""

    world: str  # the population files' world
    rule: str  # the scenario whose seed-0 run is stressed
    others: tuple[str, ...]  # scenarios whose learners play as cross-rule populations
    budget_s: float  # the stress test's target on a two-core CPU


BENCHES = {
    "public_goods": Bench("public_goods", "public_goods_matching_planner", (), 180.0),
    "economy": Bench(
        "economy",
        "economy_ai_planner",
        ("economy_free_market", "economy_us_federal", "economy_saez"),
        1800.0,
    ),
    "commons": Bench("commons", "commons_quota", ("commons_tax",), 1800.0),
}


def _rule_and_seed(run: Path) -> tuple[str, int]:
    scenario = sc.load(run / "scenario.toml")
    seed = scenario.training.seed if scenario.training is not None else scenario.evaluation.seed
    return scenario.name, int(seed)


def pick_runs(bench: Bench, found: list[Path]) -> tuple[Path, list[Path]]:
    """(the run stressed, its partners) among ``found``: the rule at the first seed, and every
    run of the rule or the other rules at any of :data:`SEEDS` but that one."""
    keyed = {_rule_and_seed(p): p for p in found if (p / "scenario.toml").is_file()}
    stressed = keyed.get((bench.rule, SEEDS[0]))
    if stressed is None:
        raise SystemExit(f"--runs: no run of {bench.rule} at training seed {SEEDS[0]} found")
    partners = [
        path
        for (rule, seed), path in sorted(keyed.items())
        if rule in (bench.rule, *bench.others) and seed in SEEDS and path != stressed
    ]
    return stressed, partners


def train_runs(bench: Bench, out: Path, quick: bool) -> list[Path]:
    """Every rule of ``bench`` at :data:`SEEDS`: the economy's regimes as the regimes
    experiment trains them (phase 1 shared per seed), the other worlds' runs one by one."""
    if bench.world == "economy":
        from coopsim.experiments import regimes

        budget = regimes.QUICK if quick else regimes.DEFAULT
        runs = regimes.run(budget, out, list(SEEDS), workers=1, verbose=False)
        return [path for by in runs.values() for path in by.values()]
    return [
        run_scenario(sc.load(rule), seed=s, out=out, iterations=2 if quick else None)
        for rule in (bench.rule, *bench.others)
        for s in SEEDS
    ]


def bench_stress(
    runs_glob: str | None = None, quick: bool = False, world: str = "public_goods"
) -> dict[str, float]:
    """Seconds per phase of ``world``'s stress test, printed as a table; returns them."""
    bench = BENCHES[world]
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        training = 0.0
        if runs_glob:
            found = sorted(Path(p) for p in glob.glob(runs_glob))
        else:
            start = time.perf_counter()
            found = train_runs(bench, Path(tmp) / "runs", quick)
            training = time.perf_counter() - start
        stressed, partners = pick_runs(bench, found)
        config = StressConfig(
            episodes=4 if quick else 32,
            coalitions=(1,),
            exploiter_iterations=2 if quick else 30,
            exploiter_start="fresh",  # the one exploiter the 3- and 30-minute targets count
        )
        start = time.perf_counter()
        plan = Stress([stressed], default_suite(world), Path(tmp) / "stress", config, partners)
        loaded = time.perf_counter() - start
        plan.run(progress=False)
        total = time.perf_counter() - start
    times = {f"load the {1 + len(partners)} runs": loaded}
    times.update({f"cell: {k.split(' ', 1)[1]}": v for k, v in plan.timings.items()})
    times["stress test in all"] = total
    load = os.getloadavg()[0]
    blocks = next(iter(plan.batches.values()), 0)
    print(
        f"Stress test of {bench.rule} s{SEEDS[0]}: {blocks} populations in one batch of "
        f"{blocks * config.episodes} worlds, one exploiter of {config.exploiter_iterations} "
        f"iterations (CPU, 1 thread; load average {load:.1f})"
    )
    if training:
        print(f"  (training the runs first, not counted: {training:.1f} s)")
    for name, seconds in times.items():
        print(f"  {name:<40} {seconds:8.1f} s")
    verdict = "under" if total < bench.budget_s else "OVER"
    print(f"  {verdict} the {bench.budget_s:.0f} s target")
    return times
