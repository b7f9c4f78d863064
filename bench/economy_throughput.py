"""Throughput of the batched gather-trade-build economy against a loop of single worlds.

Usage: ``python bench/economy_throughput.py [--quick] [--device cpu|cuda|auto]``.
"""

from __future__ import annotations

import argparse

from coopsim.bench.economy import BATCH_SIZES, main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--device", default="auto", choices=("cpu", "cuda", "auto"))
    parser.add_argument(
        "--batch", type=int, nargs="+", default=list(BATCH_SIZES), help="batch sizes B"
    )
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's)")
    args = parser.parse_args()
    main(args.quick, args.device, tuple(args.batch), threads=args.threads or None)
