"""Sweep throughput: cells/s of a batched sweep against one unit of work per cell, and the
cost per task of the local process pool against Ray.

1. ``public_goods_tax`` (scripted agents) over CELLS random tax schedules, one seed, each cell
   evaluated on EPISODES episodes: cells that differ only in the tax's rates (per-world
   controls) run as one batched world (``batch=True``), against every cell a task of its own
   on the local pool of WORKERS processes (``batch=False``), as ``coopsim sweep --no-batch``.
2. Per-task cost of each backend: TASKS tiny cells (one evaluation episode each, unbatched)
   on the local pool and on a local Ray instance (its start timed apart); the cost per task is
   wall time x workers / tasks, i.e. what one task occupies a worker for.

Run: ``python bench/sweep_throughput.py [--quick] [--no-ray]``. Every sweep writes into a
temporary folder, deleted at the end.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from coopsim import scenario as sc
from coopsim.sweeps import SweepSpec, run_sweep


def _timed(label: str, fn) -> float:
    start = time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    print(f"  {label:<44} {wall:8.2f} s", flush=True)
    return wall


def batched_vs_alone(out: Path, cells: int, episodes: int, workers: int) -> None:
    rng = np.random.default_rng(0)
    schedules = [sorted(np.round(rng.uniform(0, 1, 3), 3).tolist()) for _ in range(cells)]
    spec = SweepSpec(grid={"mechanisms.0.rates": schedules}, seeds=[0])
    tax = sc.load("public_goods_tax")
    print(f"{cells} cells of public_goods_tax (scripted), {episodes} episodes each, 1 seed")
    batched = _timed(
        "batched: one world of cells x episodes",
        lambda: run_sweep(tax, spec, out / "batched", episodes=episodes),
    )
    alone = _timed(
        f"one task per cell, local pool of {workers}",
        lambda: run_sweep(
            tax, spec, out / "alone", episodes=episodes, workers=workers, batch=False
        ),
    )
    print(
        f"  cells/s: batched {cells / batched:.1f}, one task per cell {cells / alone:.1f}; "
        f"batched is {alone / batched:.1f}x faster\n"
    )


def backend_overhead(out: Path, tasks: int, workers: int, with_ray: bool) -> None:
    matching = sc.load("public_goods_matching")
    spec = SweepSpec(grid={"mechanisms.0.rate": [round(0.01 * k, 2) for k in range(tasks)]})
    print(f"{tasks} tiny cells (one evaluation episode each), unbatched")
    walls = {}
    walls["local pool"] = _timed(
        f"local pool of {workers}",
        lambda: run_sweep(matching, spec, out / "pool", episodes=1, workers=workers, batch=False),
    )
    if with_ray:
        import ray

        _timed("Ray: ray.init() of a local instance", lambda: ray.init(logging_level="ERROR"))
        workers_ray = int(ray.cluster_resources().get("CPU", 1))
        walls["Ray"] = _timed(
            f"Ray tasks ({workers_ray} CPUs)",
            lambda: run_sweep(matching, spec, out / "ray", episodes=1, backend="ray", batch=False),
        )
        ray.shutdown()
    for name, wall in walls.items():
        print(
            f"  {name:<10} {tasks / wall:6.1f} tasks/s, {wall * workers / tasks * 1000:6.0f} ms "
            "of a worker per task"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer cells and tasks")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray backend")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    cells, episodes, tasks = (8, 8, 8) if args.quick else (64, 32, 64)
    with tempfile.TemporaryDirectory() as tmp:
        batched_vs_alone(Path(tmp), cells, episodes, args.workers)
        backend_overhead(Path(tmp), tasks, args.workers, with_ray=not args.no_ray)


if __name__ == "__main__":
    main()
