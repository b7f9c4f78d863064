"""Throughput of the batched commons against the same world stepped one at a time, and of PPO
training on it: the tables of ``coopsim bench commons`` (:mod:`coopsim.bench.commons`).

Usage: ``python bench/commons_throughput.py [--quick] [--device cpu|cuda|auto]
[--batch 1 64 1024 8192] [--threads K] [--training-iterations T]``.
"""

from __future__ import annotations

import argparse

from coopsim.bench.commons import BATCH_SIZES, main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--device", default="auto", choices=("cpu", "cuda", "auto"))
    parser.add_argument(
        "--batch", type=int, nargs="+", default=list(BATCH_SIZES), help="batch sizes B"
    )
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's)")
    parser.add_argument(
        "--training-iterations",
        type=int,
        default=None,
        help="timed PPO iterations (0: no training row; default 2 quick, 3 full)",
    )
    args = parser.parse_args()
    main(
        args.quick,
        args.device,
        tuple(args.batch),
        threads=args.threads or None,
        training_iterations=args.training_iterations,
    )
