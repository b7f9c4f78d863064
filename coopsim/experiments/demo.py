"""The flagship demo: learning agents under four public-goods rules, over several training seeds.

Each arm is an ordinary learning scenario (PPO agents, the same world and training budget),
trained and evaluated once per training seed as a run directory in ``out``; the arms differ
only by their rules. The across-seed comparison is :mod:`coopsim.analysis.demo_findings`'s.

Why worker processes with one torch thread each: the networks are too small for several threads
to help one run (on two busy cores two threads make small tensors several times slower), while
separate runs scale with the cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

#: Arm label -> scenario name, in table order; the first arm is the baseline.
ARMS = {
    "no mechanism": "public_goods_learning_baseline",
    "matching funds": "public_goods_learning_matching",
    "sanctioning institution": "public_goods_learning_institution",
    "peer punishment": "public_goods_learning_punishment",
}
BASELINE = "no mechanism"
SEEDS = (0, 1, 2)

#: Called after each finished run with (arm label, training seed, run directory).
OnRun = Callable[[str, int, Path], None]


def run_arm(name: str, seed: int, out: str, threads: int | None = 1) -> Path:
    """Train and evaluate one scenario at one training seed; runs in a worker process as well as
    in this one (all it needs is in its arguments). Returns the run directory."""
    import torch

    from coopsim import scenario as sc
    from coopsim.runner import run_scenario

    if threads:
        torch.set_num_threads(threads)
    return run_scenario(sc.load(name), seed=seed, out=out)


def run(
    out: str | os.PathLike = "runs",
    seeds: tuple[int, ...] = SEEDS,
    workers: int = 2,
    on_run: OnRun | None = None,
    arms: dict[str, str] | None = None,
) -> dict[str, dict[int, Path]]:
    """Every arm at every seed, ``workers`` runs at a time. Returns {arm: {seed: run directory}}."""
    arms = ARMS if arms is None else arms
    jobs = [(label, name, seed) for label, name in arms.items() for seed in seeds]
    paths: dict[str, dict[int, Path]] = {label: {} for label in arms}

    def finish(label: str, seed: int, path: Path) -> None:
        paths[label][seed] = Path(path)
        if on_run is not None:
            on_run(label, seed, Path(path))

    if workers <= 1:
        for label, name, seed in jobs:
            finish(label, seed, run_arm(name, seed, str(out)))
        return _ordered(paths, seeds)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context("spawn")  # no forked torch state in the workers
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {
            pool.submit(run_arm, name, seed, str(out)): (label, seed) for label, name, seed in jobs
        }
        for future in as_completed(futures):
            label, seed = futures[future]
            finish(label, seed, future.result())
    return _ordered(paths, seeds)


def _ordered(paths: dict[str, dict[int, Path]], seeds: tuple[int, ...]):
    """Runs finish in any order; tables read them arm by arm, seed by seed."""
    return {label: {s: by_seed[s] for s in seeds} for label, by_seed in paths.items()}
