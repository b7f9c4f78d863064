"""Train the four tax regimes of the gather-trade-build economy and compare them.

Usage: ``python bench/economy_regimes.py [--quick] [--phase1 N] [--phase2 N] [--worlds B]
[--episode-length T] [--episodes E] [--seed S | --seeds S,S,...] [--threads K] [--workers W]
[--out DIR]``, or ``--table DIR`` to table the seeds already saved under DIR (run in several
batches, say) without training anything. The defaults are the budget the scenario files state; see
:mod:`coopsim.bench.economy_regimes`.
"""

from __future__ import annotations

import argparse

import torch

from coopsim.bench.economy_regimes import QUICK, Budget, format_sweep, load_sweep, main

if __name__ == "__main__":
    default = Budget()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny budget: checks it runs")
    parser.add_argument("--phase1", type=int, default=default.phase1, help="shared iterations")
    parser.add_argument("--phase2", type=int, default=default.phase2, help="per regime")
    parser.add_argument("--worlds", type=int, default=default.num_worlds, help="training B")
    parser.add_argument("--episode-length", type=int, default=default.episode_length)
    parser.add_argument("--episodes", type=int, default=default.episodes, help="evaluation")
    parser.add_argument("--seed", type=int, default=default.seed)
    parser.add_argument(
        "--seeds",
        type=lambda text: [int(x) for x in text.split(",")],
        default=None,
        help="training seeds, e.g. 0,1,2: the comparison once per seed and a table across them",
    )
    parser.add_argument(
        "--labour-cost", type=float, default=None, help="override the worlds' labour cost"
    )
    parser.add_argument("--device", default=default.device, choices=("cpu", "cuda"))
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (0: torch's default); the networks are small, and on a busy "
        "machine one thread is faster than several waiting for each other",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="processes that train regimes side by side in phase 2 (one thread each)",
    )
    parser.add_argument("--out", default="runs/economy_regimes", help="figures and JSON here")
    parser.add_argument(
        "--table",
        metavar="DIR",
        default=None,
        help="train nothing: table the training seeds saved under DIR (seed_<s> folders)",
    )
    args = parser.parse_args()
    if args.table:
        try:
            print(format_sweep(load_sweep(args.table)))
        except (FileNotFoundError, ValueError) as err:
            raise SystemExit(f"error: {err}") from None
        raise SystemExit(0)
    if args.threads:
        torch.set_num_threads(args.threads)
    budget = (
        QUICK
        if args.quick
        else Budget(
            phase1=args.phase1,
            phase2=args.phase2,
            num_worlds=args.worlds,
            episode_length=args.episode_length,
            episodes=args.episodes,
            seed=args.seed,
            device=args.device,
            labour_cost=args.labour_cost,
        )
    )
    main(budget, out=args.out, workers=args.workers, seeds=args.seeds)
