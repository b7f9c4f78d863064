"""The flagship demo: learning agents under public-goods rules, over several training seeds.

Each arm is an ordinary learning scenario (PPO agents in the same world), trained and evaluated
once per training seed as a run directory in ``out``; the arms differ only by their rules, and
in the last one a learning planner chooses the rule. The across-seed comparison is
:mod:`coopsim.analysis.demo_findings`'s.

Why worker processes with one torch thread each: the networks are too small for several threads
to help one run (on two busy cores two threads make small tensors several times slower), while
separate runs scale with the cores. Why a budget per arm: ``make run`` promises learned results
on screen within minutes of a fresh clone, so each arm trains for as long as its learners need
to settle and no longer.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Arm:
    """One rule of the demo: the scenario it runs and how long it trains."""

    scenario: str
    iterations: int  # training iterations per seed
    planner: bool = False  # a planner designs the rule; these runs take longest, so start first


#: Learners under the fixed rules settle within 20 iterations (contributions 0%, 98-100%, 100%
#: and 50% at seed 1); the planner arm needs longer because its learners must first learn to
#: respond to the rates it tries before it can tell which rate pays.
ARMS = {
    "no mechanism": Arm("public_goods_learning_baseline", 20),
    "matching funds": Arm("public_goods_learning_matching", 20),
    "sanctioning institution": Arm("public_goods_learning_institution", 20),
    "peer punishment": Arm("public_goods_learning_punishment", 20),
    "planner-designed matching": Arm("demo_planner_matching", 30, planner=True),
}
BASELINE = "no mechanism"


def quick_arms() -> dict[str, Arm]:
    """The same rules at one training iteration each: checks the whole path runs in seconds
    (the documented-commands test uses it); its numbers say nothing about the rules."""
    return {label: replace(arm, iterations=1) for label, arm in ARMS.items()}


SEEDS = (0, 1, 2)

#: Called after each finished run with (arm label, training seed, run directory).
OnRun = Callable[[str, int, Path], None]


def default_workers() -> int:
    """One worker per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_arm(arm: Arm, seed: int, out: str, threads: int | None = 1) -> Path:
    """Train and evaluate one arm at one training seed; runs in a worker process as well as
    in this one (all it needs is in its arguments). Returns the run directory."""
    import torch

    from coopsim import scenario as sc
    from coopsim.runner import run_scenario

    if threads:
        torch.set_num_threads(threads)
    return run_scenario(sc.load(arm.scenario), seed=seed, out=out, iterations=arm.iterations)


def jobs(arms: dict[str, Arm], seeds: tuple[int, ...]) -> list[tuple[str, Arm, int]]:
    """(label, arm, seed) in the order they start: planner arms first (the longest runs, so no
    core idles at the end waiting on one), then the others arm by arm, so that their results
    complete one arm at a time."""
    ordered = sorted(arms.items(), key=lambda item: not item[1].planner)
    return [(label, arm, seed) for label, arm in ordered for seed in seeds]


def run(
    out: str | os.PathLike = "runs",
    seeds: tuple[int, ...] = SEEDS,
    workers: int | None = None,
    on_run: OnRun | None = None,
    arms: dict[str, Arm] | None = None,
) -> dict[str, dict[int, Path]]:
    """Every arm at every seed, ``workers`` runs at a time (default: one per core). Returns
    {arm: {seed: run directory}} in the arms' order."""
    arms = ARMS if arms is None else arms
    workers = default_workers() if workers is None else workers
    paths: dict[str, dict[int, Path]] = {label: {} for label in arms}

    def finish(label: str, seed: int, path: Path) -> None:
        paths[label][seed] = Path(path)
        if on_run is not None:
            on_run(label, seed, Path(path))

    if workers <= 1:
        for label, arm, seed in jobs(arms, seeds):
            finish(label, seed, run_arm(arm, seed, str(out)))
        return _ordered(paths, seeds)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context("spawn")  # no forked torch state in the workers
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {
            pool.submit(run_arm, arm, seed, str(out)): (label, seed)
            for label, arm, seed in jobs(arms, seeds)
        }
        for future in as_completed(futures):
            label, seed = futures[future]
            finish(label, seed, future.result())
    return _ordered(paths, seeds)


def _ordered(paths: dict[str, dict[int, Path]], seeds: tuple[int, ...]):
    """Runs finish in any order; tables read them arm by arm, seed by seed."""
    return {label: {s: by_seed[s] for s in seeds} for label, by_seed in paths.items()}
